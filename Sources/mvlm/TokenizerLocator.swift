import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModelFile
import MVLMTokenizer

/// Finds the tokenizer for a model: the `--tokenizer` path if given (a folder with
/// tokenizer.model or tokenizer.json, one of those files, or a GGUF file whose metadata holds a
/// vocabulary), else the one an `.mvlm` file carries, else the model's own folder, else the
/// model's GGUF metadata.
enum TokenizerLocator {
    static func load(model: String, explicit: String?) throws -> Tokenizer {
        if let explicit { return try load(path: explicit) }
        if let file = try? ModelFileReader(path: model), let payload = file.manifest.tokenizer {
            return try TokenizerEmbedding.tokenizer(payload, file: model)
        }
        let directory = folder(of: model)
        let fileManager = FileManager.default
        for name in ["tokenizer.model", "tokenizer.json"] where fileManager.fileExists(atPath: directory + "/" + name) {
            return try Tokenizer(folder: directory)
        }
        if let tokenizer = try? ggufTokenizer(model) { return tokenizer }
        throw MVLMError(
            .notFound,
            "no tokenizer found (no tokenizer.model or tokenizer.json beside the model, no vocabulary in its metadata); pass --tokenizer PATH (a folder, a tokenizer file or a .gguf), or give token ids with --tokens",
            file: model)
    }

    static func load(path: String) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MVLMError(.notFound, "no such file or folder", file: path)
        }
        if isDirectory.boolValue { return try Tokenizer(folder: path) }
        let name = (path as NSString).lastPathComponent
        if name == "tokenizer.model" || name == "tokenizer.json" { return try Tokenizer(folder: folder(of: path)) }
        return try ggufTokenizer(path)
    }

    static func ggufTokenizer(_ path: String) throws -> Tokenizer {
        let checkpoint = try Checkpoint.open(path)
        guard checkpoint.format == .gguf else {
            throw MVLMError(.unsupported, "is \(checkpoint.format.rawValue), not a tokenizer folder, file or GGUF", file: path)
        }
        return try Tokenizer(ggufMetadata: checkpoint.reader.metadata, context: path)
    }

    /// The folder holding `path` (itself when it is a folder).
    static func folder(of path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return path }
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}

/// The tokenizer an `.mvlm` file carries in its manifest's `tokenizer` field (Formats/mvlm.md):
/// `{"files": {name: base64 bytes}}` for a folder's tokenizer.model / tokenizer.json /
/// tokenizer_config.json, or `{"gguf": {key: value}}` for a GGUF's `tokenizer.*` metadata.
enum TokenizerEmbedding {
    /// What to embed for a conversion of `source`: from `explicit` (--tokenizer) if given, else
    /// the source's folder or GGUF metadata; nil when the source has no tokenizer.
    static func payload(source: String, explicit: String?) throws -> MetadataValue? {
        let path = explicit ?? source
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MVLMError(.notFound, "no such file or folder", file: path)
        }
        let name = (path as NSString).lastPathComponent
        if isDirectory.boolValue || Tokenizer.fileNames.contains(name) || explicit == nil {
            let folder = TokenizerLocator.folder(of: path)
            var files: [String: MetadataValue] = [:]
            for file in Tokenizer.fileNames {
                let full = folder + "/" + file
                guard FileManager.default.fileExists(atPath: full) else { continue }
                files[file] = .string(try Data(contentsOf: URL(fileURLWithPath: full)).base64EncodedString())
            }
            if files["tokenizer.model"] != nil || files["tokenizer.json"] != nil {
                _ = try Tokenizer(folder: folder)  // refuse to embed a tokenizer that does not load
                return .object(["files": .object(files)])
            }
            if explicit != nil && isDirectory.boolValue {
                throw MVLMError(.notFound, "no tokenizer.model or tokenizer.json in the folder", file: path)
            }
        }
        let checkpoint = try? Checkpoint.open(path)
        guard let checkpoint, checkpoint.format == .gguf else {
            if explicit != nil { throw MVLMError(.unsupported, "is not a tokenizer folder, tokenizer file or GGUF", file: path) }
            return nil
        }
        let keys = checkpoint.reader.metadata.filter { $0.key.hasPrefix("tokenizer.") }
        guard !keys.isEmpty else { return nil }
        _ = try Tokenizer(ggufMetadata: keys, context: path)
        return .object(["gguf": .object(keys)])
    }

    /// The tokenizer in an `.mvlm` manifest's `tokenizer` field.
    static func tokenizer(_ payload: MetadataValue, file: String) throws -> Tokenizer {
        if let files = payload["files"], case .object(let entries) = files {
            var bytes: [String: [UInt8]] = [:]
            for (name, value) in entries {
                guard let text = value.stringValue, let data = Data(base64Encoded: text) else {
                    throw MVLMError(.malformed, "tokenizer file '\(name)' is not base64", file: file, subject: "manifest tokenizer")
                }
                bytes[name] = [UInt8](data)
            }
            return try Tokenizer(files: bytes, context: file + " (manifest tokenizer)")
        }
        if let gguf = payload["gguf"], case .object(let metadata) = gguf {
            return try Tokenizer(ggufMetadata: metadata, context: file + " (manifest tokenizer)")
        }
        throw MVLMError(.malformed, "has neither 'files' nor 'gguf'", file: file, subject: "manifest tokenizer")
    }
}
