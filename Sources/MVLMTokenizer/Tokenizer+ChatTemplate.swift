import Foundation
import MVLMCore

extension Tokenizer {
    /// The chat templates a model ships: the default one and any named ones.
    public struct ChatTemplates: Sendable, Equatable {
        /// The template `apply_chat_template` uses when none is named.
        public var defaultTemplate: String?
        /// Named templates (`tool_use`, `rag`…) from a list of templates.
        public var named: [String: String]

        public init(defaultTemplate: String? = nil, named: [String: String] = [:]) {
            self.defaultTemplate = defaultTemplate
            self.named = named
        }
    }

    /// The files a chat template may come from besides `tokenizer_config.json`, in order of precedence.
    public static let chatTemplateFileNames = ["chat_template.jinja", "chat_template.json"]

    /// The chat templates among a folder's files, as current transformers loads them:
    /// `chat_template.jinja` (the template as a file) wins over `chat_template.json`
    /// (`{"chat_template": …}`), which wins over `tokenizer_config.json`'s `chat_template`. A
    /// `chat_template` value is a string or a list of `{"name", "template"}` objects whose
    /// "default" entry (else the first) is the default.
    ///
    /// - Throws: `MVLMError` (`.malformed`) naming the file when it is not UTF-8 or not the JSON expected.
    public static func chatTemplates(files: [String: [UInt8]], context: String) throws -> ChatTemplates {
        func text(_ name: String, _ bytes: [UInt8]) throws -> String {
            guard let string = String(validating: bytes, as: UTF8.self) else {
                throw MVLMError(.malformed, "is not UTF-8 text", file: context + "/" + name)
            }
            return string
        }
        func fromJSON(_ name: String) throws -> ChatTemplates? {
            guard let bytes = files[name] else { return nil }
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw MVLMError(.malformed, "not a JSON object", file: context + "/" + name)
            }
            return try templates(object["chat_template"], file: context + "/" + name)
        }
        var result = try fromJSON("tokenizer_config.json") ?? ChatTemplates()
        if let fromFile = try fromJSON("chat_template.json") {
            result.defaultTemplate = fromFile.defaultTemplate ?? result.defaultTemplate
            result.named.merge(fromFile.named) { _, new in new }
        }
        if let bytes = files["chat_template.jinja"] { result.defaultTemplate = try text("chat_template.jinja", bytes) }
        return result
    }

    /// A `chat_template` JSON value: a string, or a list of named templates.
    static func templates(_ value: Any?, file: String) throws -> ChatTemplates {
        guard let value, !(value is NSNull) else { return ChatTemplates() }
        if let template = value as? String { return ChatTemplates(defaultTemplate: template) }
        guard let list = value as? [Any] else {
            throw MVLMError(.malformed, "is neither a string nor a list of {name, template} objects", file: file, subject: "chat_template")
        }
        var result = ChatTemplates()
        var first: String?
        for (index, item) in list.enumerated() {
            guard let entry = item as? [String: Any], let name = entry["name"] as? String, let template = entry["template"] as? String else {
                throw MVLMError(.malformed, "entry \(index) is not a {name, template} object", file: file, subject: "chat_template")
            }
            first = first ?? template
            if name == "default" { result.defaultTemplate = template } else { result.named[name] = template }
        }
        result.defaultTemplate = result.defaultTemplate ?? first
        return result
    }

    /// The special tokens a chat template sees (`bos_token`, `eos_token`, `unk_token`,
    /// `pad_token`), spelled as the vocabulary spells them.
    public var specialTokenStrings: [String: String] {
        var tokens: [String: String] = [:]
        for (name, id) in [("bos_token", bosID), ("eos_token", eosID), ("unk_token", unknownID), ("pad_token", paddingID)] {
            if let id, let text = token(forID: id) { tokens[name] = text }
        }
        return tokens
    }
}
