import Foundation
import MVLMTestSupport
import MVLMTokenizer
import Testing

/// Chat prompts against jinja2's rendering of SmolLM2's stored template and LLaVA's v1 rule
/// (Tests/Fixtures/gen_chat.py).
@Suite("chat formats")
struct ChatFormatTests {
    nonisolated(unsafe) static let expected = try! loadExpectedJSON("tokenizer/chat.json")

    @Test("a ChatML template with a default system turn renders as jinja2 renders it")
    func chatML() throws {
        let chatml = try #require(Self.expected["chatml"] as? [String: Any])
        let template = try #require(chatml["template"] as? String)
        let format = try ChatFormat.detect(modelType: "llama", template: template)
        #expect(format == .chatML(defaultSystem: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        for item in try #require(chatml["cases"] as? [[String: String]]) {
            #expect(format.prompt(user: item["user"]!) == item["prompt"]!)
        }
    }

    @Test("MobileVLM's v1 prompt, with and without the image placeholder, as LLaVA builds it")
    func mobileVLM() throws {
        let format = try ChatFormat.detect(modelType: "mobilevlm", template: nil)
        #expect(format == .mobileVLMv1)
        for item in try #require(Self.expected["v1"] as? [[String: Any]]) {
            let user = try #require(item["user"] as? String), image = try #require(item["image"] as? Bool)
            #expect(format.prompt(user: user, image: image) == item["prompt"] as? String)
        }
    }

    @Test("templates that are not understood are refused, not guessed")
    func refused() {
        #expect(throws: Error.self) { try ChatFormat.detect(modelType: "llama", template: nil) }
        #expect(throws: Error.self) { try ChatFormat.detect(modelType: "llama", template: "{{ bos_token }}[INST] {{ message }} [/INST]") }
        #expect(throws: Error.self) { try ChatFormat.detect(modelType: "llama", template: "") }
    }
}
