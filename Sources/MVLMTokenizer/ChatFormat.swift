import MVLMCore

/// How a chat prompt is laid out for a model (`mvlm run --chat`).
///
/// Two families are understood, chosen from the model's type and its stored chat template:
/// - **MobileVLM / LLaVA `v1`** (`model_type` "mobilevlm"): `SYSTEM USER: <image>\nQUESTION
///   ASSISTANT:` with LLaVA's `conv_vicuna_v1` system line, the `TWO` separator style (" " after
///   the user turn); the `<image>` placeholder (when an image is given) later becomes id -200.
/// - **ChatML** (a template that writes `<|im_start|>ROLE\n ... <|im_end|>\n`, e.g. SmolLM2,
///   Qwen): each turn as `<|im_start|>user\nTEXT<|im_end|>\n`, then `<|im_start|>assistant\n`;
///   a default system turn is prepended when the template holds one for conversations without
///   a system message.
///
/// Templates are Jinja programs; rather than running arbitrary template code, other templates
/// are refused with the start of the template in the message.
public enum ChatFormat: Sendable, Equatable {
    case mobileVLMv1
    case chatML(defaultSystem: String?)

    /// LLaVA's `conv_vicuna_v1` system line, which MobileVLM's `v1` mode uses.
    public static let v1System = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions."

    /// The format for a model of `modelType` whose tokenizer stores `template`.
    /// - Throws: `MVLMError` (`.unsupported`) when neither applies.
    public static func detect(modelType: String?, template: String?) throws -> ChatFormat {
        if modelType == "mobilevlm" { return .mobileVLMv1 }
        guard let template, !template.isEmpty else {
            throw MVLMError(.unsupported, "the model has no chat template (and is not a MobileVLM model); give the full prompt with --prompt")
        }
        if template.contains("<|im_start|>") && template.contains("<|im_end|>") {
            return .chatML(defaultSystem: defaultSystem(in: template))
        }
        throw MVLMError(
            .unsupported,
            "chat template not understood (mvlm reads ChatML and MobileVLM v1 templates): '\(template.prefix(60))...'; give the full prompt with --prompt")
    }

    /// The literal system turn a ChatML template writes when the conversation has none.
    static func defaultSystem(in template: String) -> String? {
        let marker = "<|im_start|>system\\n"  // the template holds Jinja string literals: "\n" is escaped
        let markerRaw = "<|im_start|>system\n"
        for start in [marker, markerRaw] {
            guard let open = template.range(of: start), let close = template.range(of: "<|im_end|>", range: open.upperBound..<template.endIndex) else { continue }
            let text = String(template[open.upperBound..<close.lowerBound])
            return text.contains("{{") || text.contains("{%") ? nil : text.replacingOccurrences(of: "\\n", with: "\n")
        }
        return nil
    }

    /// The prompt for one user turn awaiting the assistant's answer.
    /// - Parameter image: put MobileVLM's `<image>` placeholder before the text.
    public func prompt(user: String, image: Bool = false) -> String {
        switch self {
        case .mobileVLMv1:
            return Self.v1System + " USER: " + (image ? "<image>\n" : "") + user + " ASSISTANT:"
        case .chatML(let system):
            var text = ""
            if let system { text += "<|im_start|>system\n" + system + "<|im_end|>\n" }
            return text + "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n"
        }
    }
}
