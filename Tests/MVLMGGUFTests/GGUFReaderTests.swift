import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTestSupport
import Testing

@Suite("GGUFReader on files written by gguf-py")
struct GGUFReaderTests {
    static let goodFiles = [
        "all_types_v3.gguf", "all_types_v2.gguf", "align64.gguf", "empty_arrays.gguf",
        "repaired_utf8.gguf",
    ]

    @Test("expected.json lists every good fixture")
    func expectedCoversFixtures() {
        #expect(Set(GGUFExpected.files.keys) == Set(Self.goodFiles))
    }

    @Test("header facts match gguf-py", arguments: goodFiles)
    func header(name: String) throws {
        let expected = try #require(GGUFExpected.files[name])
        let reader = try GGUFReader(path: GGUFExpected.path(name))
        #expect(reader.formatName == "gguf")
        #expect(Int(reader.version) == expected["version"] as? Int)
        #expect(reader.alignment == expected["alignment"] as? Int)
        #expect(reader.dataOffset == expected["data_offset"] as? Int)
        #expect(reader.keysWithRepairedUTF8 == expected["repaired_keys"] as? [String])
    }

    @Test("every metadata pair has the written type and value", arguments: goodFiles)
    func metadata(name: String) throws {
        let expected = try #require(GGUFExpected.files[name])
        let entries = try #require(expected["metadata"] as? [[String: Any]])
        let reader = try GGUFReader(path: GGUFExpected.path(name))
        #expect(reader.metadataEntries.map(\.key) == entries.map { $0["key"] as? String ?? "" })
        #expect(reader.metadata.count == entries.count)
        for (entry, want) in zip(reader.metadataEntries, entries) {
            let type = try #require(want["type"] as? String)
            let value = try #require(GGUFExpected.metadataValue(type: type, json: want["value"]))
            #expect(entry.type.name == type, "\(entry.key)")
            #expect(reader.metadataType(forKey: entry.key) == entry.type)
            #expect(GGUFExpected.same(entry.value, value), "\(entry.key): \(entry.value) != \(value)")
            #expect(reader.metadata[entry.key].map { GGUFExpected.same($0, value) } == true)
        }
    }

    @Test("tensor infos and bytes match gguf-py", arguments: goodFiles)
    func tensors(name: String) throws {
        let expected = try #require(GGUFExpected.files[name])
        let tensors = try #require(expected["tensors"] as? [[String: Any]])
        let reader = try GGUFReader(path: GGUFExpected.path(name))
        #expect(reader.tensorInfos.map(\.name) == tensors.map { $0["name"] as? String ?? "" })
        #expect(reader.ggufTensorInfos.count == tensors.count)
        for (index, want) in tensors.enumerated() {
            let tensorName = try #require(want["name"] as? String)
            let info = reader.ggufTensorInfos[index]
            let plain = reader.tensorInfos[index]
            #expect(info.name == tensorName)
            #expect(info.dtype.name == want["type"] as? String, "\(tensorName)")
            #expect(Int(info.ggmlType) == want["ggml_type"] as? Int, "\(tensorName)")
            #expect(info.dimensions == want["dims"] as? [Int], "\(tensorName)")
            #expect(info.shape == want["shape"] as? [Int], "\(tensorName)")
            #expect(info.offset == want["offset"] as? Int, "\(tensorName)")
            #expect(info.fileOffset == reader.dataOffset + info.offset)
            #expect(info.byteCount == want["n_bytes"] as? Int, "\(tensorName)")
            #expect(info.elementCount == want["n_elements"] as? Int, "\(tensorName)")
            #expect(plain.dtype == info.dtype && plain.shape == info.shape)
            #expect(plain.byteCount == info.byteCount && plain.file == name)

            let tensor = try reader.tensor(named: tensorName)
            #expect(tensor.dtype == info.dtype && tensor.shape == info.shape)
            #expect(tensor.storage.isBorrowed, "tensor data must be a view into the mapping")
            let bytes = tensor.withUnsafeBytes { Array($0) }
            #expect(bytes == GGUFExpected.bytes(hex: want["hex"] as? String ?? ""), "\(tensorName) bytes")

            if let values = want["values"] as? [String] {
                let floats = try tensor.floatValues()
                let reference = values.compactMap(Float.init)
                #expect(floats.count == reference.count)
                for (got, ref) in zip(floats, reference) {
                    #expect((got.isNaN && ref.isNaN) || got.bitPattern == ref.bitPattern, "\(tensorName)")
                }
            }
        }
    }

    @Test("block tensors keep their blocks: Q4_1 3x64 is 3 rows of 2 blocks of 20 bytes")
    func blockLayout() throws {
        let reader = try GGUFReader(path: GGUFExpected.path("all_types_v3.gguf"))
        let tensor = try reader.tensor(named: "q4_1")
        #expect(tensor.dtype == .block(.q4_1))
        #expect(tensor.shape == [3, 64])
        #expect(tensor.byteCount == 3 * 2 * 20)
        #expect(throws: MVLMError.self) { try tensor.floatValues() }
        let info = try #require(reader.ggufTensorInfo(named: "q4_k"))
        #expect(info.dtype == .block(.q4_K) && info.dimensions == [256, 2] && info.byteCount == 288)
    }

    @Test("integer tensors convert by value")
    func integerValues() throws {
        let reader = try GGUFReader(path: GGUFExpected.path("all_types_v3.gguf"))
        #expect(try reader.tensor(named: "i16").floatValues() == [-32768, -1, 0, 1, 2, 3, 32767])
        #expect(try reader.tensor(named: "i32").floatValues() == (-8..<8).map(Float.init))
        let scalar = try reader.tensor(named: "scalar")
        #expect(scalar.shape == [])
        #expect(try scalar.floatValues() == [42.5])
        let empty = try reader.tensor(named: "empty")
        #expect(empty.shape == [0, 4] && empty.elementCount == 0)
    }

    @Test("typed metadata helpers")
    func metadataHelpers() throws {
        let reader = try GGUFReader(path: GGUFExpected.path("all_types_v3.gguf"))
        #expect(reader.architecture == "mvlmtest")
        #expect(reader.metadata["general.architecture"]?.stringValue == "mvlmtest")
        #expect(reader.string(forKey: "test.string") == "héllo wörld ✓ 🦙")
        #expect(reader.string(forKey: "test.uint8") == nil)
        #expect(reader.integer(forKey: "test.uint8") == 255)
        #expect(reader.integer(forKey: "test.int64") == Int(Int64.min))
        #expect(reader.integer(forKey: "test.uint64") == nil)  // above Int.max
        #expect(reader.double(forKey: "test.float64") == 2.718281828459045)
        #expect(reader.double(forKey: "test.float32") == Double(Float(3.14159)))
        #expect(reader.bool(forKey: "test.bool_true") == true)
        #expect(reader.bool(forKey: "test.bool_false") == false)
        #expect(reader.strings(forKey: "tokenizer.ggml.tokens") == ["<unk>", "a", "b", "ab"])
        #expect(reader.strings(forKey: "tokenizer.ggml.scores") == nil)
        #expect(reader.metadataType(forKey: "test.uint16") == .uint16)
        #expect(reader.metadataType(forKey: "absent") == nil)
        guard case .array(let nested, let elementType) = reader.metadata["test.array.nested_int"] else {
            Issue.record("nested array missing")
            return
        }
        #expect(elementType == "ARRAY")
        #expect(nested.first == .array([.int(1), .int(2), .int(3)], elementType: "INT32"))
    }

    @Test("an unknown tensor name is .notFound naming the file and the tensor")
    func notFound() throws {
        let path = GGUFExpected.path("align64.gguf")
        let reader = try GGUFReader(path: path)
        let error = try #require(throws: MVLMError.self) { try reader.tensor(named: "nope") }
        #expect(error.code == .notFound)
        #expect(error.description.hasPrefix(path) && error.description.contains("'nope'"))
    }

    @Test("a missing file is .io")
    func missingFile() throws {
        let error = try #require(throws: MVLMError.self) {
            try GGUFReader(path: GGUFExpected.path("does-not-exist.gguf"))
        }
        #expect(error.code == .io)
    }
}
