import Foundation
import MVLMCore
import MVLMFileIO
import MVLMModelFile

/// A checkpoint as a user has it: one weights file, or a Hugging Face-style folder (config.json plus
/// weights, possibly sharded with an index), opened for reading.
///
/// Opening reads headers only; tensor data is read when `reader.tensor(named:)` asks for it.
public struct Checkpoint: Sendable {
    /// A file that holds part of the checkpoint.
    public struct File: Sendable, Hashable, Codable {
        public var name: String
        public var bytes: Int
    }

    /// The path as the user gave it.
    public let path: String
    public let format: CheckpointFormat
    /// The tensors of every weights file, merged across shards.
    public let reader: any TensorReader
    /// Weights files (and the index), with their sizes.
    public let files: [File]
    /// config.json as parsed (`[:]` when there is none).
    public let config: [String: MetadataValue]
    /// Which config file was used, if any.
    public let configPath: String?
    /// Things the user should know about how the folder was read (which file was chosen, ...).
    public let notes: [String]
    /// The folder the checkpoint lives in (itself when it is a folder; `.` for a bare file name):
    /// where relative paths in its config (e.g. `mm_vision_tower`) are resolved.
    public let directory: String

    /// Opens a weights file or a checkpoint folder.
    ///
    /// In a folder, weights are looked for in this order: `model.safetensors.index.json`,
    /// `model.safetensors`, `pytorch_model.bin.index.json`, `pytorch_model.bin`, `tf_model.h5`,
    /// then any single `*.safetensors`, `*.bin`/`*.pt`/`*.pth`, `*.gguf`, `*.h5` file. A file's format is
    /// recognized from its bytes. `config.json` beside the weights is read when present.
    /// - Throws: `MVLMError` naming the path when nothing usable is found or a file is invalid.
    public static func open(_ path: String) throws -> Checkpoint {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MVLMError(.notFound, "no such file or folder", file: path)
        }
        var notes: [String] = []
        let weightsPath: String
        let directory: String
        if isDirectory.boolValue {
            directory = path
            weightsPath = try chooseWeights(in: path, notes: &notes)
        } else {
            directory = (path as NSString).deletingLastPathComponent
            weightsPath = path
        }

        let reader: any TensorReader
        let format: CheckpointFormat
        var files: [File] = []
        if weightsPath.hasSuffix(".index.json") {
            let sharded = try ShardedReader(indexPath: weightsPath)
            reader = sharded
            format = CheckpointFormat(rawValue: sharded.formatName)!
            let folder = (weightsPath as NSString).deletingLastPathComponent
            files.append(File(name: (weightsPath as NSString).lastPathComponent, bytes: fileSize(weightsPath)))
            for shard in sharded.shardNames {
                files.append(File(name: shard, bytes: fileSize(folder.isEmpty ? shard : "\(folder)/\(shard)")))
            }
            if !sharded.unindexedTensors.isEmpty {
                notes.append("\(sharded.unindexedTensors.count) tensors are in shards but not in the index: \(sharded.unindexedTensors.prefix(5).joined(separator: ", "))")
            }
        } else {
            format = try CheckpointFormat.detect(path: weightsPath)
            reader = try format.openReader(path: weightsPath)
            files.append(File(name: (weightsPath as NSString).lastPathComponent, bytes: fileSize(weightsPath)))
        }

        var config: [String: MetadataValue] = [:]
        var configPath: String?
        if let modelFile = reader as? ModelFileReader {
            // An .mvlm file carries its own config; a config.json beside it is not its source of truth.
            return Checkpoint(
                path: path, format: format, reader: reader, files: files, config: modelFile.manifest.config,
                configPath: nil, notes: notes, directory: directory.isEmpty ? "." : directory)
        }
        let candidate = directory.isEmpty ? "config.json" : "\(directory)/config.json"
        if FileManager.default.fileExists(atPath: candidate) {
            config = try readConfig(candidate)
            configPath = candidate
        }
        return Checkpoint(
            path: path, format: format, reader: reader, files: files, config: config,
            configPath: configPath, notes: notes, directory: directory.isEmpty ? "." : directory)
    }

    /// Reads a JSON object file (config.json) into metadata values.
    /// - Throws: `MVLMError` (`.malformed`) naming the file when it is not a JSON object.
    public static func readConfig(_ path: String) throws -> [String: MetadataValue] {
        let data = Data(try RegularFile.read(path))
        do {
            return try JSONDecoder().decode([String: MetadataValue].self, from: data)
        } catch {
            throw MVLMError(.malformed, "not a JSON object: \(error)", file: path)
        }
    }

    static func chooseWeights(in directory: String, notes: inout [String]) throws -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? []
        let preferred = [
            "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json",
            "pytorch_model.bin", "tf_model.h5",
        ]
        if let first = preferred.first(where: names.contains) {
            let others = preferred.filter { $0 != first && names.contains($0) }
            if !others.isEmpty {
                notes.append("using \(first); also present: \(others.joined(separator: ", "))")
            }
            return "\(directory)/\(first)"
        }
        let groups: [(String, (String) -> Bool)] = [
            ("safetensors index", { $0.hasSuffix(".safetensors.index.json") }),
            ("safetensors", { $0.hasSuffix(".safetensors") }),
            ("PyTorch index", { $0.hasSuffix(".bin.index.json") }),
            ("PyTorch", { $0.hasSuffix(".bin") || $0.hasSuffix(".pt") || $0.hasSuffix(".pth") }),
            ("GGUF", { $0.hasSuffix(".gguf") }),
            ("HDF5", { $0.hasSuffix(".h5") || $0.hasSuffix(".hdf5") }),
        ]
        for (label, matches) in groups {
            let found = names.filter(matches)
            if found.count == 1 { return "\(directory)/\(found[0])" }
            if found.count > 1 {
                throw MVLMError(
                    .invalidArgument,
                    "the folder holds several \(label) files (\(found.prefix(6).joined(separator: ", "))); pass one file, or add an index .json",
                    file: directory)
            }
        }
        throw MVLMError(
            .notFound,
            "no weights found (looked for *.safetensors, pytorch_model.bin, *.bin/.pt/.pth, *.gguf, *.h5, and their .index.json)",
            file: directory)
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
