import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMFileIO
import MVLMModelFile
import MVLMTokenizer

/// Where a model's tokenizer comes from, with the data it is made from: a folder's tokenizer files
/// (`tokenizer.model`, `tokenizer.json`, `tokenizer_config.json`) or a GGUF's `tokenizer.*`
/// metadata. The same value loads the tokenizer (`run --prompt`, `verify --text`,
/// `convert --calibrate TEXT`) and is what an `.mvlm` file embeds in its manifest's `tokenizer`
/// field (Formats/mvlm.md): `{"files": {name: base64 bytes}}` or `{"gguf": {key: value}}`.
public enum TokenizerSource {
    case files([String: [UInt8]], origin: String)
    case gguf([String: MetadataValue], origin: String)

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

    /// The source an `.mvlm` manifest's `tokenizer` field holds.
    public init(manifestValue value: MetadataValue, file: String) throws {
        let origin = file + " (manifest tokenizer)"
        if case .object(let entries) = value["files"] ?? .null {
            var bytes: [String: [UInt8]] = [:]
            for (name, encoded) in entries {
                guard let text = encoded.stringValue, let data = Data(base64Encoded: text) else {
                    throw MVLMError(.malformed, "tokenizer file '\(name)' is not base64", file: file, subject: "manifest tokenizer")
                }
                bytes[name] = [UInt8](data)
            }
            self = .files(bytes, origin: origin)
        } else if case .object(let metadata) = value["gguf"] ?? .null {
            self = .gguf(metadata, origin: origin)
        } else {
            throw MVLMError(.malformed, "has neither 'files' nor 'gguf'", file: file, subject: "manifest tokenizer")
        }
    }

    /// The manifest `tokenizer` value for this source.
    public var manifestValue: MetadataValue {
        switch self {
        case .files(let files, _): .object(["files": .object(files.mapValues { .string(Data($0).base64EncodedString()) })])
        case .gguf(let keys, _): .object(["gguf": .object(keys)])
        }
    }

    /// The same source with `template` as its chat template (`convert --chat-template`): a
    /// folder's files gain `chat_template.jinja` (which wins over the others), GGUF metadata its
    /// `tokenizer.chat_template`.
    public func replacingChatTemplate(with template: String) -> TokenizerSource {
        switch self {
        case .files(var files, let origin):
            files["chat_template.jinja"] = Array(template.utf8)
            return .files(files, origin: origin)
        case .gguf(var keys, let origin):
            keys["tokenizer.chat_template"] = .string(template)
            return .gguf(keys, origin: origin)
        }
    }

    /// The tokenizer made from this source.
    public func tokenizer() throws -> Tokenizer {
        switch self {
        case .files(let files, let origin): try Tokenizer(files: files, context: origin)
        case .gguf(let keys, let origin): try Tokenizer(ggufMetadata: keys, context: origin)
        }
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
