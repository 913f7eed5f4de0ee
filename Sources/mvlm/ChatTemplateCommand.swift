import ArgumentParser
import Foundation
import MVLMConversionJob
import MVLMCore
import MVLMTemplate
import MVLMTokenizer

/// `mvlm chat-template`: what a model is fed for a conversation.
struct ChatTemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-template",
        abstract: "Render a conversation with the model's chat template and print the prompt (and its token ids).",
        discussion: """
            MODEL is a checkpoint folder, a GGUF file or an .mvlm file. --messages is a JSON file \
            holding the conversation as transformers takes it, [{"role": "user", "content": "..."}, ...], \
            or an object {"messages": [...], OTHER: VALUE, ...} whose other keys become template \
            variables (tools, enable_thinking, ...). The prompt is printed exactly as rendered (no \
            newline added); --json prints {"prompt", "ids", "template"} instead, the ids encoded as \
            transformers' apply_chat_template(tokenize=True) encodes them.

            Example:
              mvlm chat-template ./SmolLM2-135M-Instruct --messages chat.json --add-generation-prompt
            """)

    @Argument(help: "A checkpoint folder, GGUF or .mvlm file.")
    var model: String

    @Option(help: ArgumentHelp("The conversation: a JSON list of {role, content} messages, or {\"messages\": [...], ...}.", valueName: "FILE.json"))
    var messages: String

    @Flag(help: "End with the opening of the assistant's turn (add_generation_prompt=True).")
    var addGenerationPrompt = false

    @Option(help: ArgumentHelp("Where the tokenizer is: a folder, tokenizer.model, tokenizer.json or a .gguf.", valueName: "PATH"))
    var tokenizer: String?

    @OptionGroup var template: ChatTemplateOptions

    @Flag(help: "Print {\"prompt\", \"ids\", \"template\"} as JSON.")
    var json = false

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: messages)))
        } catch {
            throw MVLMError(.notFound, "cannot read the file (\(error.localizedDescription))", file: messages, subject: "--messages")
        }
        let (conversation, extra) = try Self.conversation(bytes, file: messages)
        let tokenizer = try TokenizerSource.load(model: model, explicit: self.tokenizer)
        let prompt = try template.prompt(model: model, tokenizer: tokenizer)
        let text = try prompt.render(messagesValue: conversation, addGenerationPrompt: addGenerationPrompt, extra: extra, now: Self.today())
        guard json else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        let object: [String: Any] = ["prompt": text, "ids": prompt.encode(text, with: tokenizer), "template": prompt.origin]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    /// The messages and extra variables of a --messages file.
    static func conversation(_ bytes: [UInt8], file: String) throws -> (TemplateValue, [String: TemplateValue]) {
        let value = try TemplateValue(json: bytes, context: file)
        switch value {
        case .list(let items):
            try checkMessages(items, file: file)
            return (value, [:])
        case .dict(let object):
            guard case .list(let items)? = object["messages"] else {
                throw MVLMError(.malformed, "an object needs a 'messages' list", file: file, subject: "--messages")
            }
            try checkMessages(items, file: file)
            var extra: [String: TemplateValue] = [:]
            for (key, item) in object.entries {
                guard case .string(let name) = key, name != "messages" else { continue }
                extra[name] = item
            }
            return (.list(items), extra)
        default:
            throw MVLMError(.malformed, "expected a list of messages or an object with 'messages'", file: file, subject: "--messages")
        }
    }

    static func checkMessages(_ items: [TemplateValue], file: String) throws {
        for (index, item) in items.enumerated() {
            guard case .dict(let message) = item, case .string? = message["role"] else {
                throw MVLMError(.malformed, "message \(index) is not an object with a string 'role'", file: file, subject: "--messages")
            }
        }
    }

    /// Today's local date and time for `strftime_now` (transformers reads the clock the same way).
    static func today() -> TemplateDate {
        let parts = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date())
        return TemplateDate(
            year: parts.year ?? 2026, month: parts.month ?? 1, day: parts.day ?? 1, hour: parts.hour ?? 0, minute: parts.minute ?? 0,
            second: parts.second ?? 0)
    }
}
