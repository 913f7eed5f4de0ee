import Foundation
import MVLMCore

/// Where a model's tokenizer comes from, with the data it is made from: a folder's tokenizer files
/// (`tokenizer.model`, `tokenizer.json`, `tokenizer_config.json`) or a GGUF's `tokenizer.*`
/// metadata. The same value loads the tokenizer (`run --prompt`, `verify --text`, `convert
/// --calibrate TEXT`, the MobileVLM library) and is what an `.mvlm` file embeds in its manifest's
/// `tokenizer` field (Formats/mvlm.md): `{"files": {name: base64 bytes}}` or `{"gguf": {key:
/// value}}`. Finding one beside a model or at a `--tokenizer` path reads checkpoints, so it lives
/// above, in MVLMConversionJob (`TokenizerSource.find` / `at` / `load`).
public enum TokenizerSource {
    case files([String: [UInt8]], origin: String)
    case gguf([String: MetadataValue], origin: String)

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
}
