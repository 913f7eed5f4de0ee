import Foundation
import MVLMCompression
import MVLMCore
import MVLMModelFile
import MVLMTestSupport
import Testing

@Suite("the .mvlm container")
struct ModelFileTests {
    /// Writes a small file with scalar, block, 0-d and empty tensors.
    static func writeSample(to path: String, seed: UInt64 = 1) throws -> [String: [UInt8]] {
        var random = SeededRandom(seed: seed)
        let tensors: [(String, DType, [Int])] = [
            ("embed", .float16, [8, 4]), ("scalar", .float32, []), ("empty", .int8, [0, 7]),
            ("q", .block(.q4_0), [2, 64]), ("bias", .float32, [3]), ("pc", .block(.int8PerChannel), [3, 5]),
        ]
        var contents: [String: [UInt8]] = [:]
        let writer = try ModelFileWriter(path: path)
        for (name, dtype, shape) in tensors {
            let bytes = (0..<dtype.byteCount(shape: shape)!).map { _ in UInt8.random(in: 0...255, using: &random) }
            contents[name] = bytes
            try bytes.withUnsafeBytes {
                try writer.addTensor(name: name, dtype: dtype, shape: shape, bytes: $0, source: [.string("src.\(name)")])
            }
        }
        var manifest = ModelManifest(architecture: "llama", config: ["hidden_size": .int(4)], metadata: ["producer": .string("test")])
        manifest.quantization = .object(["preset": .string("q4_0")])
        try writer.finish(manifest: manifest)
        return contents
    }

    @Test("round trip: manifest, tensor bytes, 64-byte alignment, zero-copy views, integrity")
    func roundTrip() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("m.mvlm").path
        let contents = try Self.writeSample(to: path)
        let reader = try ModelFileReader(path: path)
        #expect(reader.manifest.architecture == "llama")
        #expect(reader.manifest.quantization?["preset"] == .string("q4_0"))
        #expect(reader.tensorInfos.map(\.name) == ["embed", "scalar", "empty", "q", "bias", "pc"])
        for entry in reader.manifest.tensors {
            #expect(entry.offset % 64 == 0)
            let tensor = try reader.verifiedTensor(named: entry.name)
            #expect(tensor.storage.isBorrowed)
            #expect(tensor.withUnsafeBytes { Array($0) } == contents[entry.name])
        }
        #expect(reader.verifyIntegrity().isEmpty)
    }

    @Test("the predicted size of a file is its size")
    func prediction() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("p.mvlm").path
        _ = try Self.writeSample(to: path)
        let reader = try ModelFileReader(path: path)
        var manifest = reader.manifest
        let tensors = try manifest.tensors.map { entry in
            (name: entry.name, dtype: try #require(DType(name: entry.dtype)), shape: entry.shape, source: entry.source)
        }
        manifest.tensors = []
        let predicted = try ModelFileWriter.predictedFileSize(tensors: tensors, manifest: manifest)
        #expect(predicted == Int(reader.header.fileSize))
    }

    @Test("two writes of the same content are byte-identical")
    func reproducible() throws {
        let directory = try Fixtures.temporaryDirectory()
        _ = try Self.writeSample(to: directory.appendingPathComponent("a.mvlm").path)
        _ = try Self.writeSample(to: directory.appendingPathComponent("b.mvlm").path)
        let a = try Data(contentsOf: directory.appendingPathComponent("a.mvlm"))
        let b = try Data(contentsOf: directory.appendingPathComponent("b.mvlm"))
        #expect(a == b)
    }

    /// An independent parser written from Formats/mvlm.md alone (no MVLMModelFile code).
    @Test("a written file parses by the spec's rules alone")
    func specConformance() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("s.mvlm").path
        let contents = try Self.writeSample(to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * $1) } }
        func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[o + $1]) << (8 * $1) } }
        #expect(Array(bytes[0..<8]) == [0x4D, 0x56, 0x4C, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(u16(8) == 1 && u16(10) == 0 && u32(12) == 64)
        #expect(u64(16) == bytes.count)
        #expect(bytes[0..<60].withUnsafeBytes { CRC32.checksum($0) } == u32(60))
        let (dataOffset, dataSize, manifestOffset, manifestSize) = (u64(24), u64(32), u64(40), u64(48))
        #expect(dataOffset == 64 && dataOffset + dataSize <= manifestOffset && manifestOffset % 8 == 0)
        #expect(manifestOffset + manifestSize == bytes.count)
        let manifestBytes = Array(bytes[manifestOffset..<(manifestOffset + manifestSize)])
        #expect(manifestBytes.withUnsafeBytes { CRC32.checksum($0) } == u32(56))
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(manifestBytes)) as? [String: Any])
        #expect(manifest["format"] as? String == "mvlm")
        let tensors = try #require(manifest["tensors"] as? [[String: Any]])
        let sizes = ["F16": 2, "F32": 4, "I8": 1]
        for tensor in tensors {
            let name = try #require(tensor["name"] as? String)
            let offset = try #require(tensor["offset"] as? Int)
            let count = try #require(tensor["bytes"] as? Int)
            let shape = try #require(jsonInts(tensor["shape"]))
            let dtype = try #require(tensor["dtype"] as? String)
            let elements = shape.reduce(1, *)
            // The spec's size rules: Q4_0 blocks of 32 in 18 bytes; INT8_PC rows of f32 scale + int8s.
            let expected = switch dtype {
            case "Q4_0": elements / 32 * 18
            case "INT8_PC": elements / shape.last! * (4 + shape.last!)
            default: elements * sizes[dtype]!
            }
            #expect(count == expected, "\(name)")
            #expect(offset % 64 == 0 && offset >= dataOffset && offset + count <= dataOffset + dataSize)
            let data = Array(bytes[offset..<(offset + count)])
            #expect(data == contents[name])
            let crcText = try #require(tensor["crc32"] as? String)
            #expect(crcText.count == 8)
            #expect(data.withUnsafeBytes { CRC32.checksum($0) } == UInt32(crcText, radix: 16))
        }
    }

    @Test("corruption is found: data, header, manifest, truncation, foreign files")
    func corruption() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("c.mvlm").path
        _ = try Self.writeSample(to: path)
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let reader = try ModelFileReader(path: path)
        let q = try #require(reader.manifest.tensors.first { $0.name == "q" })

        func variant(_ name: String, _ edit: (inout [UInt8]) -> Void) throws -> String {
            var copy = good
            edit(&copy)
            let file = directory.appendingPathComponent(name).path
            try Data(copy).write(to: URL(fileURLWithPath: file))
            return file
        }
        let flippedData = try variant("data.mvlm") { $0[q.offset + 5] ^= 0x40 }
        let damaged = try ModelFileReader(path: flippedData)
        #expect(damaged.verifyIntegrity() == ["q"])
        #expect { try damaged.verifiedTensor(named: "q") } throws: { "\($0)".contains("checksum mismatch") && "\($0)".contains("'q'") }

        let cases: [(String, (inout [UInt8]) -> Void, String)] = [
            ("header.mvlm", { $0[20] ^= 1 }, "header checksum"),
            ("manifest.mvlm", { $0[$0.count - 10] ^= 1 }, "manifest checksum"),
            ("truncated.mvlm", { $0.removeLast(100) }, "header says the file has"),
            ("magic.mvlm", { $0[0] = 0 }, "not an .mvlm file"),
            ("short.mvlm", { $0 = Array($0[0..<10]) }, "an .mvlm header has 64"),
            ("zstd.mvlm", { $0 = [0x28, 0xB5, 0x2F, 0xFD] + $0 }, "mvlm unpack"),
        ]
        for (name, edit, message) in cases {
            let file = try variant(name, edit)
            #expect { try ModelFileReader(path: file) } throws: { error in
                let text = "\(error)"
                return text.contains(message) && text.contains(name) && !text.contains("\n")
            }
        }
    }

    @Test("zstd distribution form round-trips exactly and refuses corrupt input")
    func packing() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("p.mvlm").path
        _ = try Self.writeSample(to: path)
        let packed = directory.appendingPathComponent("p.mvlm.zst").path
        let unpacked = directory.appendingPathComponent("u.mvlm").path
        try ModelFilePacking.pack(path, to: packed)
        try ModelFilePacking.unpack(packed, to: unpacked)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: unpacked)))
        var broken = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packed)))
        broken[broken.count / 2] ^= 0xFF
        let brokenPath = directory.appendingPathComponent("b.mvlm.zst").path
        try Data(broken).write(to: URL(fileURLWithPath: brokenPath))
        let target = directory.appendingPathComponent("never.mvlm").path
        #expect(throws: MVLMError.self) { try ModelFilePacking.unpack(brokenPath, to: target) }
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("an unfinished writer leaves nothing under the name")
    func atomic() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("x.mvlm").path
        do {
            let writer = try ModelFileWriter(path: path)
            try [Float(1)].withUnsafeBytes { try writer.addTensor(name: "a", dtype: .float32, shape: [1], bytes: $0) }
            #expect(throws: MVLMError.self) { try writer.addTensor(name: "a", dtype: .float32, shape: [1], bytes: UnsafeRawBufferPointer(start: nil, count: 0)) }
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
