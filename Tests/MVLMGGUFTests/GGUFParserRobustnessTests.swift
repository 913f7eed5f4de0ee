import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTestSupport
import Testing

/// Opens every prefix and many seeded mutations of valid files: each must either open (with every
/// tensor range inside the file, and every tensor viewable) or throw `MVLMError` — never crash.
/// Files go through a temporary directory so the tests use only public API (they also build with
/// `swift test -c release`, where `@testable` is unavailable).
@Suite("GGUF reader robustness")
struct GGUFParserRobustnessTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: GGUFExpected.path(name))))
    }

    /// A scratch directory in memory when the system has one (/dev/shm): thousands of small
    /// files are written below, and disk-backed /tmp can cost milliseconds per file.
    static func scratchDirectory(_ label: String) throws -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue,
            FileManager.default.isWritableFile(atPath: "/dev/shm")
        {
            let url = URL(fileURLWithPath: "/dev/shm/\(label)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }
        return try Fixtures.temporaryDirectory(label)
    }

    /// Writes `bytes` to `url` and opens it; on success views every tensor.
    static func open(_ bytes: [UInt8], at url: URL) throws -> Result<GGUFReader, any Error> {
        try Data(bytes).write(to: url)
        return Result {
            let reader = try GGUFReader(path: url.path)
            for info in reader.tensorInfos { _ = try reader.tensor(named: info.name) }
            return reader
        }
    }

    @Test("every prefix of a valid file is refused or opened consistently")
    func prefixes() throws {
        let directory = try Self.scratchDirectory("mvlm-gguf-prefix")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("prefix.gguf")
        for name in ["all_types_v3.gguf", "align64.gguf", "empty_arrays.gguf"] {
            let bytes = try Self.fixture(name)
            let full = try GGUFReader(path: GGUFExpected.path(name))
            let dataEnd = full.ggufTensorInfos.map(\.fileRange.upperBound).max() ?? full.dataOffset
            let hasTensors = !full.ggufTensorInfos.isEmpty
            // Every cut inside the header and tensor infos, every 8th inside the data.
            let lengths = Array(0..<min(full.dataOffset + 1, bytes.count))
                + Array(stride(from: full.dataOffset + 1, to: bytes.count, by: 8))
            for length in lengths {
                switch try Self.open(Array(bytes[0..<length]), at: url) {
                case .success(let reader):
                    // Without tensors the padding before the (empty) data section is optional.
                    #expect(length >= dataEnd || !hasTensors, "\(name) prefix \(length) opened")
                    #expect(reader.ggufTensorInfos.allSatisfy { $0.fileRange.upperBound <= length })
                case .failure(let error):
                    #expect(error is MVLMError, "\(name) prefix \(length): \(error)")
                    #expect(length < dataEnd || !hasTensors, "\(name) prefix \(length): \(error)")
                }
            }
        }
    }

    @Test("seeded byte mutations of the header and tensor infos never crash")
    func mutations() throws {
        let directory = try Self.scratchDirectory("mvlm-gguf-mutation")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("mutated.gguf")
        var random = SeededRandom(seed: 0x6767_7566)
        for name in ["all_types_v3.gguf", "align64.gguf"] {
            let original = try Self.fixture(name)
            let headerEnd = try GGUFReader(path: GGUFExpected.path(name)).dataOffset
            for _ in 0..<3000 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = Int.random(in: 0..<headerEnd, using: &random)
                    bytes[position] = UInt8.random(in: 0...255, using: &random)
                }
                switch try Self.open(bytes, at: url) {
                case .success(let reader):
                    #expect(reader.ggufTensorInfos.allSatisfy { $0.fileRange.upperBound <= bytes.count })
                case .failure(let error):
                    #expect(error is MVLMError, "\(error)")
                }
            }
        }
    }

    static func header(tensorCount: UInt64, keyValueCount: UInt64) -> [UInt8] {
        var bytes: [UInt8] = Array("GGUF".utf8)
        withUnsafeBytes(of: UInt32(3).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: tensorCount.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: keyValueCount.littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    @Test("more metadata values than the bound is refused before allocating them")
    func metadataValueBound() throws {
        let directory = try Self.scratchDirectory("mvlm-gguf-bound")
        defer { try? FileManager.default.removeItem(at: directory) }
        var bytes = Self.header(tensorCount: 0, keyValueCount: 1)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        append(UInt64(3))
        bytes.append(contentsOf: Array("big".utf8))
        append(UInt32(9))  // ARRAY
        append(UInt32(0))  // of UINT8
        let count = GGUFReader.maximumMetadataValues + 1
        append(UInt64(count))
        bytes.append(contentsOf: [UInt8](repeating: 0, count: count))
        let result = try Self.open(bytes, at: directory.appendingPathComponent("values.gguf"))
        guard case .failure(let error) = result, let error = error as? MVLMError else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.code == .unsupported && error.subject == "key 'big'")
    }

    @Test("more tensors than the bound is refused before allocating them")
    func tensorCountBound() throws {
        let directory = try Self.scratchDirectory("mvlm-gguf-bound")
        defer { try? FileManager.default.removeItem(at: directory) }
        let count = GGUFReader.maximumTensorCount + 1
        var bytes = Self.header(tensorCount: UInt64(count), keyValueCount: 0)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: count * 24))  // 24: smallest info
        let result = try Self.open(bytes, at: directory.appendingPathComponent("tensors.gguf"))
        guard case .failure(let error) = result, let error = error as? MVLMError else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.code == .unsupported && error.message.contains("tensors"))
    }
}
