import Foundation
import MVLMCore
import MVLMTestSupport
import Testing

@testable import MVLMPyTorch

@Suite("PyTorchWriter round trips through PyTorchReader")
struct PyTorchWriterTests {
    /// A tensor of `dtype` and `shape` filled with seeded bytes (bool: 0/1).
    static func randomTensor(_ dtype: DType, _ shape: [Int], seed: UInt64) throws -> Tensor {
        var random = SeededRandom(seed: seed)
        let count = Shape.elementCount(shape)! * dtype.scalarByteSize!
        let storage = try TensorStorage(byteCount: count) { bytes in
            for index in 0..<count {
                bytes[index] = dtype == .bool ? UInt8(random.next() & 1) : UInt8(truncatingIfNeeded: random.next())
            }
        }
        return try Tensor(storage: storage, dtype: dtype, shape: shape)
    }

    static let scalarTypes: [DType] = [
        .float64, .float32, .float16, .bfloat16, .int64, .int32, .int16, .int8, .uint8, .bool,
        .uint16, .uint32, .uint64, .float8E4M3, .float8E5M2,
    ]

    @Test("every dtype, 0-d and empty tensors, in order", arguments: [false, true])
    func roundTrip(forceZip64: Bool) throws {
        var tensors: [(String, Tensor)] = []
        for (index, dtype) in Self.scalarTypes.enumerated() {
            tensors.append(("layer.\(index).\(dtype.name)", try Self.randomTensor(dtype, [3, 5], seed: UInt64(index))))
        }
        tensors.append(("scalar", try Self.randomTensor(.float32, [], seed: 99)))
        tensors.append(("empty", try Self.randomTensor(.float16, [0], seed: 1)))
        tensors.append(("empty_3x0", try Self.randomTensor(.int64, [3, 0], seed: 1)))
        tensors.append(("big_dims", try Self.randomTensor(.uint8, [70_000, 1], seed: 5)))  // BININT (> 65535)
        tensors.append(("rank5", try Self.randomTensor(.float32, [1, 2, 1, 2, 3], seed: 6)))  // MARK ... TUPLE
        tensors.append(("ünïcode name", try Self.randomTensor(.bfloat16, [2], seed: 7)))

        let directory = try Fixtures.temporaryDirectory("pytorch-writer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("round trip.pt").path
        let entries = tensors.map { PyTorchWriter.TensorEntry(name: $0.0, dtype: $0.1.dtype, shape: $0.1.shape) }
        try PyTorchWriter.write(entries, to: path, forceZip64: forceZip64) { index, _, sink in
            try tensors[index].1.withUnsafeBytes { try sink($0) }
        }

        let reader = try PyTorchReader(path: path)
        #expect(reader.archiveName == "round trip")
        #expect(reader.metadata["version"] == .int(3))
        #expect(reader.metadata["byteorder"] == .string("little"))
        #expect(reader.tensorInfos.map(\.name) == tensors.map(\.0))
        for (name, original) in tensors {
            let read = try reader.tensor(named: name)
            #expect(read.dtype == original.dtype)
            #expect(read.shape == original.shape)
            #expect(read.storage.isBorrowed)
            let same = read.withUnsafeBytes { a in original.withUnsafeBytes { b in a.elementsEqual(b) } }
            #expect(same, "\(name)")
        }
        // Data entries start on 64-byte boundaries, as torch aligns them.
        for info in reader.tensorInfos {
            let record = try #require(reader.records[info.name])
            guard case .mapped(let range) = record.backing else {
                Issue.record("\(info.name) is not stored in place")
                continue
            }
            #expect(range.lowerBound % 64 == 0, "\(info.name)")
        }
    }

    @Test("copying a torch.save checkpoint keeps every tensor's values (views made contiguous)")
    func copyCheckpoint() throws {
        let source = try PyTorchReader(path: Fixtures.path("pytorch/views.pt"))
        let directory = try Fixtures.temporaryDirectory("pytorch-writer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("copy.bin").path
        try PyTorchWriter.write(contentsOf: source, to: path)
        let copy = try PyTorchReader(path: path)
        #expect(copy.tensorInfos == source.tensorInfos.map {
            TensorInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape, byteCount: $0.byteCount, file: "copy.bin")
        })
        for info in source.tensorInfos {
            let read = try copy.tensor(named: info.name)
            #expect(read.isContiguous)
            #expect(try read.floatValues() == source.tensor(named: info.name).floatValues())
        }
    }

    @Test("wrong byte counts, duplicates and block types are refused and leave no file")
    func refusals() throws {
        let directory = try Fixtures.temporaryDirectory("pytorch-writer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bad.pt").path
        let entry = PyTorchWriter.TensorEntry(name: "w", dtype: .float32, shape: [4])
        let short = try #require(throws: MVLMError.self) {
            try PyTorchWriter.write([entry], to: path) { _, _, sink in
                try [UInt8](repeating: 0, count: 12).withUnsafeBytes { try sink($0) }
            }
        }
        #expect(short.code == .invalidArgument)
        #expect(short.description.contains("expected 16"))
        let long = try #require(throws: MVLMError.self) {
            try PyTorchWriter.write([entry], to: path) { _, _, sink in
                try [UInt8](repeating: 0, count: 20).withUnsafeBytes { try sink($0) }
            }
        }
        #expect(long.code == .invalidArgument)
        let duplicate = try #require(throws: MVLMError.self) {
            try PyTorchWriter.write([entry, entry], to: path) { _, _, _ in }
        }
        #expect(duplicate.code == .invalidArgument)
        let block = PyTorchWriter.TensorEntry(name: "q", dtype: .block(.q8_0), shape: [32])
        let blockError = try #require(throws: MVLMError.self) {
            try PyTorchWriter.write([block], to: path) { _, _, _ in }
        }
        #expect(blockError.code == .invalidArgument)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
