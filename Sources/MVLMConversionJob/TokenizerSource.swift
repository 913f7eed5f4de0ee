import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMFileIO
import MVLMModelFile
import MVLMTokenizer

extension TokenizerSource {
    /// The tokenizer of `model`: from `explicit` (--tokenizer) if given, else the one an `.mvlm`
    /// file carries, else the tokenizer files beside the model, else its GGUF metadata.
    /// - Throws: `MVLMError` (`.notFound`) saying how to give one when there is none.
    public static func load(model: String, explicit: String?) throws -> Tokenizer {
        guard let source = try find(model: model, explicit: explicit) else {
            throw MVLMError(
                .notFound,
                "no tokenizer found (no tokenizer.model or tokenizer.json beside the model, no vocabulary in its metadata); pass --tokenizer PATH (a folder, a tokenizer file or a .gguf), or give token ids with --tokens",
                file: model)
        }
        return try source.tokenizer()
    }

    /// The source for `model` as `load` searches it; nil when the model has none.
    public static func find(model: String, explicit: String?) throws -> TokenizerSource? {
        if let explicit { return try at(path: explicit) }
        if let file = try? ModelFileReader(path: model), let value = file.manifest.tokenizer {
            return try TokenizerSource(manifestValue: value, file: model)
        }
        let beside = try files(in: folder(of: model))
        if beside["tokenizer.model"] != nil || beside["tokenizer.json"] != nil { return .files(beside, origin: folder(of: model)) }
        if let checkpoint = try? Checkpoint.open(model), checkpoint.format == .gguf {
            let keys = checkpoint.reader.metadata.filter { $0.key.hasPrefix("tokenizer.") }
            return keys.isEmpty ? nil : .gguf(keys, origin: model)
        }
        return nil
    }

    /// The source at a `--tokenizer` path: a folder, one of its tokenizer files, or a GGUF.
    /// - Throws: `MVLMError` when the path holds none of these.
    public static func at(path: String) throws -> TokenizerSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MVLMError(.notFound, "no such file or folder", file: path)
        }
        if isDirectory.boolValue || Tokenizer.fileNames.contains((path as NSString).lastPathComponent) {
            let folder = folder(of: path)
            let found = try files(in: folder)
            guard found["tokenizer.model"] != nil || found["tokenizer.json"] != nil else {
                throw MVLMError(.notFound, "no tokenizer.model or tokenizer.json in the folder", file: folder)
            }
            return .files(found, origin: folder)
        }
        let checkpoint = try Checkpoint.open(path)
        guard checkpoint.format == .gguf else {
            throw MVLMError(.unsupported, "is \(checkpoint.format.rawValue), not a tokenizer folder, tokenizer file or GGUF", file: path)
        }
        return .gguf(checkpoint.reader.metadata.filter { $0.key.hasPrefix("tokenizer.") }, origin: path)
    }

    /// The tokenizer files present in `folder`, by name.
    static func files(in folder: String) throws -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        for name in Tokenizer.fileNames {
            let path = folder + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            found[name] = try RegularFile.read(path)
        }
        return found
    }

    /// The folder holding `path` (itself when it is a folder).
    static func folder(of path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return path }
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}
