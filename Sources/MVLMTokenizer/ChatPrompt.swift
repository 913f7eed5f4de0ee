import MVLMCore
import MVLMTemplate

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    /// Whether an image goes with this turn (MobileVLM's `<image>` placeholder, placed by the template).
    public var hasImage: Bool

    public init(role: String, content: String, hasImage: Bool = false) {
        self.role = role
        self.content = content
        self.hasImage = hasImage
    }
}

/// Turns a conversation into the prompt text a model was trained on, by rendering its chat
/// template (`MVLMTemplate.ChatTemplate`) with the variables transformers passes.
///
/// The template is chosen in this order: an override (`--chat-template FILE|NAME`), MobileVLM's
/// conversation format for `model_type` "mobilevlm" (built in: its checkpoints ship none), the
/// tokenizer's own (`chat_template.jinja` > `chat_template.json` > `tokenizer_config.json` >
/// GGUF `tokenizer.chat_template`).
public struct ChatPrompt: Sendable {
    /// Where the override comes from.
    public enum Override: Sendable {
        /// A template's text (read from a file by the caller), with the name errors give it.
        case text(String, name: String)
        /// A named template: one of the tokenizer's named templates, "default", or a built-in
        /// ("mobilevlm").
        case named(String)
    }

    public let template: ChatTemplate
    /// Where the template came from, for messages ("chat_template.jinja", "built-in mobilevlm"…).
    public let origin: String
    /// Whether this is the built-in MobileVLM format (its prompt is tokenized with the tokenizer's
    /// own BOS setting, as MobileVLM's `tokenizer_image_token` does; others as transformers'
    /// `apply_chat_template` does, without adding special tokens).
    public let isBuiltIn: Bool
    public var specialTokens: [String: String]

    /// MobileVLM's `v1` conversation (LLaVA's `conv_vicuna_v1`, separator style TWO) as a chat
    /// template: the system line and " ", then "USER: TEXT " and "ASSISTANT: TEXT</s>" turns, then
    /// "ASSISTANT:" to prompt the answer; an image part puts `<image>\n` before the text.
    public static let mobileVLMTemplate = """
        {%- set default_system = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions." -%}
        {%- if messages and messages[0]['role'] == 'system' -%}{{- messages[0]['content'] + ' ' -}}{%- else -%}{{- default_system + ' ' -}}{%- endif -%}
        {%- for message in messages if message['role'] != 'system' -%}
        {%- if message['content'] is string -%}{%- set text = message['content'] -%}
        {%- else -%}{%- set parts = namespace(text='') -%}
        {%- for part in message['content'] -%}
        {%- if part['type'] == 'image' -%}{%- set parts.text = parts.text + '<image>\\n' -%}
        {%- elif part['type'] == 'text' -%}{%- set parts.text = parts.text + part['text'] -%}{%- endif -%}
        {%- endfor -%}{%- set text = parts.text -%}{%- endif -%}
        {{- ('USER' if message['role'] == 'user' else 'ASSISTANT') + ': ' + text + (' ' if loop.index0 % 2 == 0 else eos_token) -}}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}
        """

    /// The built-in templates by name.
    public static let builtIns = ["mobilevlm": mobileVLMTemplate]

    /// The prompt builder for a model.
    /// - Parameters:
    ///   - tokenizer: the model's tokenizer (its templates and special tokens).
    ///   - modelType: `config.json`'s `model_type`, if known.
    ///   - override: a template chosen by the user.
    /// - Throws: `MVLMError`: `.notFound` when the model has no template (naming how to give
    ///   one), `.malformed` when the template does not compile.
    public init(tokenizer: Tokenizer, modelType: String?, override: Override? = nil) throws {
        let source: String
        switch override {
        case .text(let text, let name)?:
            (source, origin, isBuiltIn) = (text, name, false)
        case .named(let name)?:
            if name == "default", let text = tokenizer.chatTemplate {
                (source, origin, isBuiltIn) = (text, "the model's default chat template", false)
            } else if let text = tokenizer.namedChatTemplates[name] {
                (source, origin, isBuiltIn) = (text, "the model's chat template '\(name)'", false)
            } else if let text = Self.builtIns[name] {
                (source, origin, isBuiltIn) = (text, "built-in \(name)", true)
            } else {
                let known = (tokenizer.chatTemplate == nil ? [] : ["default"]) + tokenizer.namedChatTemplates.keys.sorted() + Self.builtIns.keys.sorted()
                throw MVLMError(
                    .notFound, "no chat template named '\(name)' (the model has: \(known.joined(separator: ", "))); give a .jinja file or one of these names",
                    subject: "--chat-template")
            }
        case nil:
            if modelType == "mobilevlm" {
                (source, origin, isBuiltIn) = (Self.mobileVLMTemplate, "built-in mobilevlm", true)
            } else if let text = tokenizer.chatTemplate, !text.isEmpty {
                (source, origin, isBuiltIn) = (text, "the model's chat template", false)
            } else {
                throw MVLMError(
                    .notFound,
                    "the model has no chat template (no chat_template.jinja, chat_template.json, tokenizer_config.json chat_template or GGUF tokenizer.chat_template); pass --chat-template FILE.jinja, or give the full prompt without --chat")
            }
        }
        template = try ChatTemplate(source, name: origin)
        specialTokens = tokenizer.specialTokenStrings
        if isBuiltIn, specialTokens["eos_token"] == nil { specialTokens["eos_token"] = "</s>" }
    }

    /// The messages as the template sees them: `{"role", "content"}` dicts, with an image turn's
    /// content as `[{"type": "image"}, {"type": "text", "text": …}]` (transformers' multimodal form).
    public static func messagesValue(_ messages: [ChatMessage]) -> TemplateValue {
        .list(messages.map { message in
            let content: TemplateValue = message.hasImage
                ? .list([.dict(TemplateDict([("type", .string("image"))])), .dict(TemplateDict([("type", .string("text")), ("text", .string(message.content))]))])
                : .string(message.content)
            return .dict(TemplateDict([("role", .string(message.role)), ("content", content)]))
        })
    }

    /// The prompt text for `messages`.
    /// - Parameters:
    ///   - addGenerationPrompt: end with the opening of the assistant's turn.
    ///   - extra: custom template variables (`enable_thinking`…).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, extra: [String: TemplateValue] = [:], now: TemplateDate = .init()) throws -> String {
        try render(messagesValue: Self.messagesValue(messages), addGenerationPrompt: addGenerationPrompt, extra: extra, now: now)
    }

    /// The prompt text for messages given as template values (e.g. parsed from a JSON file).
    public func render(messagesValue: TemplateValue, addGenerationPrompt: Bool, extra: [String: TemplateValue] = [:], now: TemplateDate = .init()) throws -> String {
        let context = ChatTemplate.context(messages: messagesValue, addGenerationPrompt: addGenerationPrompt, specialTokens: specialTokens, extra: extra)
        return try template.render(context, now: now)
    }

    /// The ids of a rendered prompt: special tokens written in the text become their ids, and
    /// BOS is added only for the built-in MobileVLM format (a real template writes `bos_token`
    /// itself; transformers encodes its output with `add_special_tokens=False`).
    public func encode(_ prompt: String, with tokenizer: Tokenizer, imageID: Int? = nil) -> [Int] {
        if let imageID, prompt.contains("<image>") {
            var copy = tokenizer
            if !isBuiltIn { copy.addBOS = false }
            return copy.encode(prompt, imagePlaceholder: "<image>", imageID: imageID)
        }
        return tokenizer.encode(prompt, addBOS: isBuiltIn ? nil : false)
    }
}
