import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMTokenizer

/// Finds the tokenizer for a model: the `--tokenizer` path if given (a folder with
/// tokenizer.model or tokenizer.json, one of those files, or a GGUF file whose metadata holds a
/// vocabulary), else the model's own folder, else the model's GGUF metadata.
enum TokenizerLocator {
    static func load(model: String, explicit: String?) throws -> Tokenizer {
        if let explicit { return try load(path: explicit) }
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
