import Foundation
import MVLMCore
import MVLMTokenizer

extension Tokenizer {
    /// The tokenizer an `.mvlm` manifest's `tokenizer` field holds (Formats/mvlm.md):
    /// `{"files": {name: base64 bytes}}` or `{"gguf": {key: value}}`.
    /// - Throws: `MVLMError` (`.malformed`) naming the file when the field is neither, or a file
    ///   is not base64; the tokenizer's own errors when it does not load.
    init(manifestValue value: MetadataValue, file: String) throws {
        let origin = file + " (manifest tokenizer)"
        if case .object(let entries) = value["files"] ?? .null {
            var bytes: [String: [UInt8]] = [:]
            for (name, encoded) in entries {
                guard let text = encoded.stringValue, let data = Data(base64Encoded: text) else {
                    throw MVLMError(.malformed, "tokenizer file '\(name)' is not base64", file: file, subject: "manifest tokenizer")
                }
                bytes[name] = [UInt8](data)
            }
            try self.init(files: bytes, context: origin)
        } else if case .object(let metadata) = value["gguf"] ?? .null {
            try self.init(ggufMetadata: metadata, context: origin)
        } else {
            throw MVLMError(.malformed, "has neither 'files' nor 'gguf'", file: file, subject: "manifest tokenizer")
        }
    }
}
