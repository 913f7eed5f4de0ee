import Foundation
import MVLMCore
import MVLMTestSupport
import Testing

@testable import MVLMPyTorch

/// Reference values written by Tests/Fixtures/gen_pytorch.py from torch itself.
struct ExpectedCheckpoint: Decodable {
    struct Entry: Decodable {
        var name: String
        var dtype: String
        var shape: [Int]
        var values: [Double]?
        var hex: String
    }
    struct Metadata: Decodable {
        var byteorder: String
        var version: Int
    }
    var archive: String
    var metadata: Metadata
    var tensors: [Entry]

    static let all: [String: ExpectedCheckpoint] = {
        let url = URL(fileURLWithPath: Fixtures.path("pytorch/expected.json"))
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode([String: ExpectedCheckpoint].self, from: data)
    }()
}

func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

@Suite("PyTorchReader on torch.save fixtures")
struct PyTorchReaderTests {
    static let goodFiles = ExpectedCheckpoint.all.keys.sorted()

    @Test("names, dtypes, shapes, values and bytes match torch", arguments: goodFiles)
    func matchesTorch(file: String) throws {
        let expected = try #require(ExpectedCheckpoint.all[file])
        let reader = try PyTorchReader(path: Fixtures.path("pytorch/\(file)"))
        #expect(reader.formatName == "pytorch")
        #expect(reader.archiveName == expected.archive)
        #expect(reader.tensorInfos.map(\.name) == expected.tensors.map(\.name))
        #expect(reader.metadata["byteorder"] == .string(expected.metadata.byteorder))
        #expect(reader.metadata["version"] == .int(Int64(expected.metadata.version)))
        for (info, entry) in zip(reader.tensorInfos, expected.tensors) {
            #expect(info.dtype.name == entry.dtype, "\(entry.name)")
            #expect(info.shape == entry.shape, "\(entry.name)")
            #expect(info.file == file)
            let tensor = try reader.tensor(named: entry.name)
            #expect(tensor.storage.isBorrowed, "zero-copy view expected for \(entry.name)")
            #expect(tensor.shape == entry.shape)
            #expect(info.byteCount == entry.hex.utf8.count / 2, "\(entry.name)")
            #expect(tensor.withUnsafeBytes { hexString($0) } == entry.hex, "\(entry.name)")
            if let values = entry.values {
                #expect(try tensor.floatValues() == values.map { Float($0) }, "\(entry.name)")
            }
        }
    }

    @Test("a deflate-compressed archive (re-zipped by another tool) reads through zlib, same bytes")
    func deflated() throws {
        let reference = try PyTorchReader(path: Fixtures.path("pytorch/scalars_empty.pt"))
        let reader = try PyTorchReader(path: Fixtures.path("pytorch/deflated_copy.pt"))
        #expect(reader.tensorInfos.map(\.name) == reference.tensorInfos.map(\.name))
        for info in reference.tensorInfos {
            let a = try reference.tensor(named: info.name)
            let b = try reader.tensor(named: info.name)
            #expect(a.dtype == b.dtype && a.shape == b.shape, "\(info.name)")
            #expect(a.withUnsafeBytes { Array($0) } == b.withUnsafeBytes { Array($0) }, "\(info.name)")
        }
    }

    @Test("every dtype torch.save writes is read")
    func allDTypes() throws {
        let reader = try PyTorchReader(path: Fixtures.path("pytorch/all_dtypes.pt"))
        let dtypes = Set(reader.tensorInfos.map(\.dtype))
        #expect(dtypes == [
            .float64, .float32, .float16, .bfloat16, .int64, .int32, .int16, .int8, .uint8, .bool,
            .uint16, .uint32, .uint64, .float8E4M3, .float8E5M2,
        ])
    }

    @Test("views keep strides and offsets into one shared storage")
    func views() throws {
        let reader = try PyTorchReader(path: Fixtures.path("pytorch/views.pt"))
        let transposed = try reader.tensor(named: "transposed")
        #expect(transposed.shape == [6, 4])
        #expect(transposed.strides == [1, 6])
        #expect(!transposed.isContiguous)
        let rows = try reader.tensor(named: "rows_1_3")
        #expect(rows.byteOffset == 6 * 4)
        let columns = try reader.tensor(named: "every_other_column")
        #expect(columns.strides == [6, 2])
        let info = try #require(reader.tensorInfos.first { $0.name == "every_other_column" })
        #expect(info.byteCount == 4 * 3 * 4)  // its elements, not the whole storage
        let base = try reader.tensor(named: "base")
        let same = base.storage.withUnsafeBytes { a in
            transposed.storage.withUnsafeBytes { b in a.baseAddress == b.baseAddress }
        }
        #expect(same)
    }

    @Test("tied weights are two names over one storage")
    func tiedWeights() throws {
        let reader = try PyTorchReader(path: Fixtures.path("pytorch/tied.bin"))
        let embed = try reader.tensor(named: "model.embed_tokens.weight")
        let head = try reader.tensor(named: "lm_head.weight")
        let rows = try reader.tensor(named: "lm_head_rows")
        let addresses = [embed, head, rows].map { tensor in
            tensor.storage.withUnsafeBytes { $0.baseAddress }
        }
        #expect(addresses[0] == addresses[1] && addresses[1] == addresses[2])
        #expect(rows.byteOffset == 2 * 3 * 4)
        #expect(reader.tensorInfos.map(\.byteCount) == [60, 60, 36])
    }

    @Test("an unknown name is not found")
    func unknownName() throws {
        let reader = try PyTorchReader(path: Fixtures.path("pytorch/tied.bin"))
        let error = try #require(throws: MVLMError.self) { try reader.tensor(named: "nope") }
        #expect(error.code == .notFound)
        #expect(error.description.contains("tied.bin"))
    }
}

@Suite("PyTorchReader refuses what it cannot or must not read")
struct PyTorchRefusalTests {
    typealias Case = HostileCase

    static let cases: [Case] = [
        Case(file: "refused_legacy.pt", code: .unsupported, keyword: "legacy PyTorch serialization (torch < 1.6)"),
        Case(file: "refused_torchscript.pt", code: .unsupported, keyword: "TorchScript"),
        Case(file: "hostile_truncated.pt", code: .truncated, keyword: "truncated"),
        Case(file: "hostile_empty.pt", code: .truncated, keyword: "empty"),
        Case(file: "hostile_garbage.pt", code: .malformed, keyword: "not a PyTorch checkpoint"),
        Case(file: "hostile_os_system.pt", code: .unsafeContent, keyword: "'posix.system'"),
        Case(file: "hostile_eval.pt", code: .unsafeContent, keyword: "'builtins.eval'"),
        Case(file: "hostile_subprocess.pt", code: .unsafeContent, keyword: "'subprocess.Popen'"),
        Case(file: "hostile_getattr.pt", code: .unsafeContent, keyword: "'builtins.getattr'"),
        Case(file: "hostile_lying_numel.pt", code: .outOfBounds, keyword: "declares 4000 bytes"),
        Case(file: "hostile_offset_past_end.pt", code: .outOfBounds, keyword: "storage offset 100"),
        Case(file: "hostile_view_past_end.pt", code: .outOfBounds, keyword: "reaches element 4"),
        Case(file: "hostile_shape_overflow.pt", code: .outOfBounds, keyword: "overflows"),
        Case(file: "hostile_missing_storage.pt", code: .notFound, keyword: "data/7"),
        Case(file: "hostile_big_endian.pt", code: .unsupported, keyword: "big-endian"),
        Case(file: "hostile_unknown_opcode.pt", code: .malformed, keyword: "BYTEARRAY8 (0x96)"),
        Case(file: "hostile_laughs.pt", code: .outOfBounds, keyword: "parts"),
        Case(file: "hostile_deflate_corrupt.pt", code: .malformed, keyword: "scalars_empty/data/0"),
        Case(file: "hostile_directory_past_end.pt", code: .outOfBounds, keyword: "central directory"),
        Case(file: "hostile_local_offset.pt", code: .outOfBounds, keyword: "local header offset"),
    ]

    @Test("refused with a one-line error naming the file", arguments: cases)
    func refused(_ testCase: Case) throws {
        let path = Fixtures.path("pytorch/\(testCase.file)")
        let error = try #require(throws: MVLMError.self) {
            let reader = try PyTorchReader(path: path)
            for info in reader.tensorInfos { _ = try reader.tensor(named: info.name).contiguous() }
        }
        #expect(error.code == testCase.code, "\(error)")
        #expect(error.description.contains(testCase.keyword), "\(error)")
        #expect(error.description.hasPrefix(path), "\(error)")
        #expect(!error.description.contains("\n"))
    }
}
