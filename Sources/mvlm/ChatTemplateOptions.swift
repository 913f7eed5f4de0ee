import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMTemplate
import MVLMTokenizer

/// `--chat-template FILE|NAME`, shared by run, chat, chat-template and convert.
struct ChatTemplateOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The chat template to use instead of the model's: a .jinja file, a chat_template.json / tokenizer_config.json file, or a name (one of the model's named templates, 'default', or the built-in 'mobilevlm').",
        valueName: "FILE|NAME"))
    var chatTemplate: String?

    /// The override, with a file's template read; nil when none was given.
    /// - Throws: `MVLMError` when a file cannot be read or holds no template.
    func override() throws -> ChatPrompt.Override? {
        guard let chatTemplate else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: chatTemplate, isDirectory: &isDirectory), !isDirectory.boolValue else {
            if chatTemplate.contains("/") || chatTemplate.hasSuffix(".jinja") || chatTemplate.hasSuffix(".json") {
                throw MVLMError(.notFound, "no such file", file: chatTemplate, subject: "--chat-template")
            }
            return .named(chatTemplate)
        }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: chatTemplate)))
        if chatTemplate.hasSuffix(".json") {
            guard let text = try Tokenizer.chatTemplates(files: ["chat_template.json": bytes], context: chatTemplate).defaultTemplate else {
                throw MVLMError(.notFound, "holds no chat_template", file: chatTemplate, subject: "--chat-template")
            }
            return .text(text, name: chatTemplate)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MVLMError(.malformed, "is not UTF-8 text", file: chatTemplate, subject: "--chat-template")
        }
        return .text(text, name: chatTemplate)
    }

    /// The text of the override (a file's, a named template's or a built-in's), checked to
    /// compile; nil when none was given.
    func overrideText(tokenizer: Tokenizer?) throws -> String? {
        let text: String
        switch try override() {
        case nil: return nil
        case .text(let source, _)?: text = source
        case .named(let name)?:
            if name == "default", let source = tokenizer?.chatTemplate {
                text = source
            } else if let source = tokenizer?.namedChatTemplates[name] ?? ChatPrompt.builtIns[name] {
                text = source
            } else {
                throw MVLMError(.notFound, "no chat template named '\(name)' (give a .jinja file, a named template of the model, or 'mobilevlm')", subject: "--chat-template")
            }
        }
        _ = try ChatTemplate(text, name: chatTemplate ?? "--chat-template")
        return text
    }

    /// The chat prompt builder for `model` with its `tokenizer`.
    func prompt(model: String, tokenizer: Tokenizer) throws -> ChatPrompt {
        let modelType = (try? Checkpoint.open(model))?.config["model_type"]?.stringValue
        return try ChatPrompt(tokenizer: tokenizer, modelType: modelType, override: try override())
    }
}
