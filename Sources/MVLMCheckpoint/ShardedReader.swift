import Foundation
import MVLMCore
import MVLMFileIO

/// A checkpoint split over several files by a Hugging Face index (`model.safetensors.index.json`,
/// `pytorch_model.bin.index.json`): `{"metadata": {...}, "weight_map": {tensor: shard file}}`.
///
/// Every shard is opened (headers only) and checked against the index: each tensor the index names
/// must be in the shard it names, and no tensor may appear in two shards. Shard file names must stay
/// inside the index's folder.
public struct ShardedReader: TensorReader {
    public let formatName: String
    /// The index file.
    public let indexPath: String
    public let tensorInfos: [TensorInfo]
    /// The index's `metadata` object, plus `shards` (the number of files).
    public let metadata: [String: MetadataValue]
    /// Shard file names in order.
    public let shardNames: [String]
    /// Tensors found in a shard that the index does not list (kept, and reported by `inspect`).
    public let unindexedTensors: [String]

    private let shards: [any TensorReader]
    private let location: [String: Int]  // tensor name -> shard index

    struct Index: Decodable {
        var metadata: [String: MetadataValue]?
        var weightMap: [String: String]
        enum CodingKeys: String, CodingKey {
            case metadata
            case weightMap = "weight_map"
        }
    }

    /// Opens the index at `indexPath` and every shard it names.
    /// - Throws: `MVLMError` naming the index or shard file when the index is malformed, a shard is
    ///   missing or invalid, or the index and the shards disagree.
    public init(indexPath: String) throws {
        self.indexPath = indexPath
        let data = Data(try RegularFile.read(indexPath))
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: data)
        } catch {
            throw MVLMError(.malformed, "not a checkpoint index (expected {\"weight_map\": {tensor: file}}): \(error)", file: indexPath)
        }
        let directory = (indexPath as NSString).deletingLastPathComponent
        let shardNames = Array(Set(index.weightMap.values)).sorted()
        guard !shardNames.isEmpty else {
            throw MVLMError(.malformed, "weight_map is empty", file: indexPath)
        }
        for name in shardNames {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !name.contains("\0") else {
                throw MVLMError(
                    .unsafeContent, "shard file name '\(name)' leaves the checkpoint folder", file: indexPath)
            }
        }
        var shards: [any TensorReader] = []
        var location: [String: Int] = [:]
        var infos: [TensorInfo] = []
        var format: CheckpointFormat?
        for (shardIndex, name) in shardNames.enumerated() {
            let path = directory.isEmpty ? name : "\(directory)/\(name)"
            guard FileManager.default.fileExists(atPath: path) else {
                throw MVLMError(.notFound, "shard '\(name)' named by the index does not exist", file: indexPath)
            }
            let shardFormat = try CheckpointFormat.detect(path: path)
            if let format, format != shardFormat {
                throw MVLMError(.malformed, "shard '\(name)' is \(shardFormat.rawValue) but earlier shards are \(format.rawValue)", file: indexPath)
            }
            format = shardFormat
            let reader = try shardFormat.openReader(path: path)
            for var info in reader.tensorInfos {
                if let other = location[info.name] {
                    throw MVLMError(
                        .malformed, "tensor '\(info.name)' is in both '\(shardNames[other])' and '\(name)'",
                        file: indexPath)
                }
                location[info.name] = shardIndex
                info.file = name
                infos.append(info)
            }
            shards.append(reader)
        }
        for (tensor, shard) in index.weightMap.sorted(by: { $0.key < $1.key }) {
            guard let found = location[tensor] else {
                throw MVLMError(.notFound, "the index maps tensor '\(tensor)' to '\(shard)', which does not contain it", file: indexPath)
            }
            guard shardNames[found] == shard else {
                throw MVLMError(
                    .malformed, "the index maps tensor '\(tensor)' to '\(shard)' but it is in '\(shardNames[found])'",
                    file: indexPath)
            }
        }
        self.formatName = format!.rawValue
        self.shards = shards
        self.location = location
        self.tensorInfos = infos
        self.shardNames = shardNames
        self.unindexedTensors = infos.map(\.name).filter { index.weightMap[$0] == nil }
        var metadata = index.metadata ?? [:]
        metadata["shards"] = .int(Int64(shardNames.count))
        self.metadata = metadata
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let shard = location[name] else {
            throw MVLMError(.notFound, "no tensor named '\(name)'", file: indexPath)
        }
        return try shards[shard].tensor(named: name)
    }
}
