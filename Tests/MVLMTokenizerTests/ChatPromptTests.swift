import Foundation
import MVLMCore
import MVLMTemplate
import MVLMTestSupport
import MVLMTokenizer
import Testing

/// Chat prompts through the template engine, against jinja2's rendering of SmolLM2's stored
/// template and LLaVA's v1 rule (Tests/Fixtures/gen_chat.py).
@Suite("chat prompts")
struct ChatPromptTests {
    nonisolated(unsafe) static let expected = try! loadExpectedJSON("tokenizer/chat.json")

    static func tokenizer(template: String?, named: [String: String] = [:]) throws -> Tokenizer {
        let bpe = try ByteLevelBPE(tokens: ["a", "<|im_end|>"], merges: [], preTokenizer: PreTokenizer(steps: []), context: "test")
        var tokenizer = try Tokenizer(model: .byteLevelBPE(bpe), eosID: 1, chatTemplate: template)
        tokenizer.namedChatTemplates = named
        return tokenizer
    }

    @Test("SmolLM2's stored template renders as jinja2 renders it")
    func smolLM2() throws {
        let chatml = try #require(Self.expected["chatml"] as? [String: Any])
        let template = try #require(chatml["template"] as? String)
        let prompt = try ChatPrompt(tokenizer: try Self.tokenizer(template: template), modelType: "llama")
        #expect(!prompt.isBuiltIn)
        for item in try #require(chatml["cases"] as? [[String: String]]) {
            #expect(try prompt.render([ChatMessage(role: "user", content: item["user"]!)]) == item["prompt"]!)
        }
    }

    @Test("MobileVLM's built-in template gives LLaVA's v1 prompt, with and without the image")
    func mobileVLM() throws {
        let prompt = try ChatPrompt(tokenizer: try Self.tokenizer(template: "{{ 'ignored' }}"), modelType: "mobilevlm")
        #expect(prompt.isBuiltIn)
        for item in try #require(Self.expected["v1"] as? [[String: Any]]) {
            let user = try #require(item["user"] as? String), image = try #require(item["image"] as? Bool)
            #expect(try prompt.render([ChatMessage(role: "user", content: user, hasImage: image)]) == item["prompt"] as? String)
        }
    }

    @Test("a MobileVLM conversation continues as LLaVA's Conversation.get_prompt writes it")
    func mobileVLMTurns() throws {
        let prompt = try ChatPrompt(tokenizer: try Self.tokenizer(template: nil), modelType: "mobilevlm")
        let text = try prompt.render([
            ChatMessage(role: "user", content: "Q1", hasImage: true), ChatMessage(role: "assistant", content: "A1"),
            ChatMessage(role: "user", content: "Q2"),
        ])
        // LLaVA: system + " " + "USER: <image>\nQ1" + " " + "ASSISTANT: A1" + "</s>" + "USER: Q2" + " " + "ASSISTANT:"
        let system = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions."
        #expect(text == system + " USER: <image>\nQ1 ASSISTANT: A1<|im_end|>USER: Q2 ASSISTANT:")
    }

    @Test("overrides: a template's text, a named template, a built-in; unknown names are refused")
    func overrides() throws {
        let tokenizer = try Self.tokenizer(template: "default:{{ messages[0].content }}", named: ["tool_use": "tools:{{ messages | length }}"])
        let messages = [ChatMessage(role: "user", content: "hi")]
        #expect(try ChatPrompt(tokenizer: tokenizer, modelType: nil).render(messages) == "default:hi")
        #expect(try ChatPrompt(tokenizer: tokenizer, modelType: nil, override: .named("tool_use")).render(messages) == "tools:1")
        #expect(try ChatPrompt(tokenizer: tokenizer, modelType: nil, override: .text("x{{ eos_token }}", name: "f.jinja")).render(messages) == "x<|im_end|>")
        #expect(try ChatPrompt(tokenizer: tokenizer, modelType: nil, override: .named("mobilevlm")).isBuiltIn)
        #expect(throws: MVLMError.self) { try ChatPrompt(tokenizer: tokenizer, modelType: nil, override: .named("nope")) }
    }

    @Test("a model without a template is refused with a way out")
    func noTemplate() throws {
        let error = try #require(throws: MVLMError.self) { try ChatPrompt(tokenizer: try Self.tokenizer(template: nil), modelType: "llama") }
        #expect(error.description.contains("--chat-template"))
    }

    @Test("chat_template.jinja wins over chat_template.json, which wins over tokenizer_config.json")
    func precedence() throws {
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        var files: [String: [UInt8]] = [
            "tokenizer_config.json": bytes(#"{"chat_template": [{"name": "default", "template": "config"}, {"name": "rag", "template": "R"}]}"#)
        ]
        #expect(try Tokenizer.chatTemplates(files: files, context: "m") == .init(defaultTemplate: "config", named: ["rag": "R"]))
        files["chat_template.json"] = bytes(#"{"chat_template": "json"}"#)
        #expect(try Tokenizer.chatTemplates(files: files, context: "m").defaultTemplate == "json")
        files["chat_template.jinja"] = bytes("jinja")
        #expect(try Tokenizer.chatTemplates(files: files, context: "m") == .init(defaultTemplate: "jinja", named: ["rag": "R"]))
        files["chat_template.json"] = bytes("[1, 2]")
        #expect(throws: MVLMError.self) { try Tokenizer.chatTemplates(files: files, context: "m") }
    }
}
