import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTestSupport
import Testing

@Suite("GGUFWriter: files gguf-py and our reader read back")
struct GGUFWriterTests {
    /// Rewrites a gguf-py file's metadata and tensors with our writer.
    static func rewrite(_ name: String, to path: String) throws -> GGUFReader {
        let source = try GGUFReader(path: GGUFExpected.path(name))
        let tensors = source.tensorInfos.map { GGUFWriter.Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        let writer = try GGUFWriter(path: path, metadata: source.metadataEntries, tensors: tensors)
        for info in source.tensorInfos {
            try writer.beginTensor(named: info.name)
            try source.tensor(named: info.name).withUnsafeBytes { try writer.write($0) }
            try writer.endTensor()
        }
        try writer.finish()
        return source
    }

    @Test("gguf-py's files (every value type, nested and empty arrays, 64-byte alignment) come out byte for byte",
          arguments: ["all_types_v3.gguf", "align64.gguf", "empty_arrays.gguf"])
    func byteIdenticalToGGUFPy(name: String) throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent(name).path
        _ = try Self.rewrite(name, to: path)
        let ours = try Data(contentsOf: URL(fileURLWithPath: path))
        let theirs = try Data(contentsOf: URL(fileURLWithPath: GGUFExpected.path(name)))
        #expect(ours == theirs)
    }

    @Test("what is written reads back: types, values, shapes (innermost first on disk), data, alignment")
    func roundTrip() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("t.gguf").path
        let entries = [
            GGUFMetadataEntry(key: "general.architecture", type: .string, value: .string("llama")),
            GGUFMetadataEntry(key: "a.u8", type: .uint8, value: .uint(255)),
            GGUFMetadataEntry(key: "a.i16", type: .int16, value: .int(-300)),
            GGUFMetadataEntry(key: "a.u64", type: .uint64, value: .uint(1 << 40)),
            GGUFMetadataEntry(key: "a.f32", type: .float32, value: .float(0.5)),
            GGUFMetadataEntry(key: "a.f64", type: .float64, value: .float(1e-300)),
            GGUFMetadataEntry(key: "a.flag", type: .bool, value: .bool(true)),
            GGUFMetadataEntry(key: "a.ids", type: .array, value: .array([.int(-1), .int(7)], elementType: "INT32")),
            GGUFMetadataEntry(
                key: "a.nested", type: .array,
                value: .array([.array([.string("x")], elementType: "STRING"), .array([], elementType: "UINT8")], elementType: "ARRAY")),
        ]
        let values: [Float] = (0..<6).map { Float($0) - 2.5 }
        let writer = try GGUFWriter(
            path: path, metadata: entries,
            tensors: [.init(name: "w", dtype: .float32, shape: [2, 3]), .init(name: "v", dtype: .float16, shape: [3])])
        #expect(writer.alignment == 32 && writer.dataOffset % 32 == 0)
        #expect(!FileManager.default.fileExists(atPath: path), "nothing appears before finish()")
        try writer.beginTensor(named: "w")
        try values.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<8])) }
        try values.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[8...])) }
        try writer.endTensor()
        try writer.beginTensor(named: "v")
        try [UInt16(0x3C00), 0x4000, 0xC000].withUnsafeBytes { try writer.write($0) }
        try writer.endTensor()
        try writer.finish()

        let reader = try GGUFReader(path: path)
        #expect(reader.metadataEntries == entries)
        #expect(reader.ggufTensorInfos.map(\.dimensions) == [[3, 2], [3]])
        #expect(try reader.tensor(named: "w").floatValues() == values)
        #expect(try reader.tensor(named: "v").floatValues() == [1, 2, -2])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue
        #expect(size == writer.fileSize)
        #expect(try size == GGUFWriter.fileSize(
            metadata: entries, tensors: [.init(name: "w", dtype: .float32, shape: [2, 3]), .init(name: "v", dtype: .float16, shape: [3])]))
    }

    @Test("mistakes are refused, naming the key or tensor")
    func refusals() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("bad.gguf").path
        func fails(_ metadata: [GGUFMetadataEntry], _ tensors: [GGUFWriter.Tensor], _ fragment: String) {
            do {
                _ = try GGUFWriter(path: path, metadata: metadata, tensors: tensors)
                Issue.record("accepted: \(fragment)")
            } catch let error as MVLMError {
                #expect(error.description.contains(fragment), "\(error)")
            } catch { Issue.record("\(error)") }
        }
        fails([.init(key: "k", type: .uint8, value: .uint(256))], [], "key 'k': value 256 does not fit GGUF type UINT8")
        fails([.init(key: "k", type: .bool, value: .bool(true)), .init(key: "k", type: .bool, value: .bool(false))], [], "duplicate metadata key")
        fails([.init(key: "general.alignment", type: .uint32, value: .uint(48))], [], "power of two")
        fails([], [.init(name: "q", dtype: .block(.int8Block32), shape: [2, 32])], "INT8_B32 has no ggml type")
        fails([], [.init(name: "q", dtype: .block(.q4_K), shape: [2, 64])], "do not fill whole Q4_K blocks of 256")

        let writer = try GGUFWriter(path: path, metadata: [], tensors: [.init(name: "a", dtype: .float32, shape: [2])])
        #expect(throws: MVLMError.self) { try writer.beginTensor(named: "b") }
        try writer.beginTensor(named: "a")
        try [Float(1)].withUnsafeBytes { try writer.write($0) }
        #expect(throws: MVLMError.self) { try writer.endTensor() }
        #expect(throws: MVLMError.self) { try writer.finish() }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
