import Foundation
import MVLMTestSupport
import Testing

/// `mvlm chat-template`, `mvlm run --chat` and `mvlm chat` on a folder saved by current
/// transformers (chat_template.jinja beside tokenizer_config.json; Tests/Fixtures/gen_chat_folder.py)
/// with the random-weight Llama of Tests/Fixtures/llama/gqa_tied_f32 (its 300-id vocabulary).
@Suite("chat commands")
struct ChatCommandTests {
    /// A model folder: the Llama fixture's weights with the transformers-saved tokenizer files.
    static func modelFolder() throws -> String {
        let folder = try Fixtures.temporaryDirectory("chat")
        for (from, name) in [
            ("llama/gqa_tied_f32", "config.json"), ("llama/gqa_tied_f32", "model.safetensors"), ("chat_folder", "tokenizer.json"),
            ("chat_folder", "tokenizer_config.json"), ("chat_folder", "chat_template.jinja"),
        ] {
            try FileManager.default.copyItem(atPath: Fixtures.path("\(from)/\(name)"), toPath: folder.appendingPathComponent(name).path)
        }
        return folder.path
    }

    nonisolated(unsafe) static let expected = try! loadExpectedJSON("chat_folder/expected.json") as! [String: [String: Any]]

    @Test("chat-template prints transformers' apply_chat_template prompt and ids for a chat_template.jinja folder")
    func renderedAsTransformers() throws {
        let folder = try Self.modelFolder()
        for (name, item) in Self.expected.sorted(by: { $0.key < $1.key }) {
            let messages = try Fixtures.temporaryDirectory("chat-messages").appendingPathComponent("\(name).json")
            try JSONSerialization.data(withJSONObject: item["messages"]!).write(to: messages)
            var arguments = ["chat-template", folder, "--messages", messages.path, "--json"]
            if item["add_generation_prompt"] as? Bool == true { arguments.append("--add-generation-prompt") }
            let result = try CommandLineTool.run(arguments)
            #expect(result.status == 0, "\(result.stderr)")
            let output = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(output["prompt"] as? String == item["prompt"] as? String, "\(name)")
            #expect(output["ids"] as? [Int] == item["ids"] as? [Int], "\(name)")
            // Without --json the prompt is printed exactly.
            let plain = try CommandLineTool.run(Array(arguments.filter { $0 != "--json" }))
            #expect(plain.stdout == item["prompt"] as? String)
        }
    }

    @Test("run --chat feeds the model the template's ids")
    func runChat() throws {
        let folder = try Self.modelFolder()
        let result = try CommandLineTool.run(["run", folder, "--chat", "--prompt", "What is the capital of France?", "--max-new-tokens", "3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(output["prompt_tokens"] as? [Int] == Self.expected["question+gen"]?["ids"] as? [Int])
        // A folder without any template is refused with a way out.
        try FileManager.default.removeItem(atPath: folder + "/chat_template.jinja")
        let refused = try CommandLineTool.run(["run", folder, "--chat", "--prompt", "hi"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("--chat-template"))
        let overridden = try CommandLineTool.run(["run", folder, "--chat", "--chat-template", Fixtures.path("chat_folder/chat_template.jinja"), "--prompt", "What is the capital of France?", "--max-new-tokens", "3", "--json"])
        let again = try #require(try JSONSerialization.jsonObject(with: Data(overridden.stdout.utf8)) as? [String: Any])
        #expect(again["prompt_tokens"] as? [Int] == Self.expected["question+gen"]?["ids"] as? [Int])
    }

    /// Runs `mvlm` with `input` on standard input (a pipe).
    static func runPiped(_ arguments: [String], input: String) throws -> CommandLineTool.Result {
        try CommandLineTool.run(arguments, input: Data(input.utf8))
    }

    @Test("chat from a pipe: one answer line per input line, the same answer run --chat gives, /reset forgets")
    func piped() throws {
        let folder = try Self.modelFolder()
        func single(_ question: String) throws -> String {
            let result = try CommandLineTool.run(["run", folder, "--chat", "--prompt", question, "--max-new-tokens", "4"])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout
        }
        let first = try single("hello"), second = try single("What is the capital of France?")
        let result = try Self.runPiped(["chat", folder, "--max-new-tokens", "4"], input: "hello\n/reset\nWhat is the capital of France?\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == first + second)
        #expect(result.stderr.contains("(conversation reset)"))
        // Without /reset the second question is asked with the first exchange in the history.
        let kept = try Self.runPiped(["chat", folder, "--max-new-tokens", "4"], input: "hello\nWhat is the capital of France?\n/quit\nignored\n")
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout.hasPrefix(first))
        #expect(kept.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == first.split(separator: "\n", omittingEmptySubsequences: false).count + second.split(separator: "\n", omittingEmptySubsequences: false).count - 1)
    }

    @Test("an image goes with the first turn as run --chat --image puts it (MobileVLM's built-in template)")
    func image() throws {
        let folder = Fixtures.path("vision/tiny_v2"), picture = Fixtures.path("vision/image.png")
        let single = try CommandLineTool.run(["run", folder, "--chat", "--prompt", "What is in the image?", "--image", picture, "--max-new-tokens", "4"])
        #expect(single.status == 0, "\(single.stderr)")
        let piped = try Self.runPiped(["chat", folder, "--max-new-tokens", "4"], input: "/image \(picture)\nWhat is in the image?\n/image \(picture)\n")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout == single.stdout)
        #expect(piped.stderr.contains("already has an image"))
    }

    @Test("convert carries the template into .mvlm and GGUF output; --chat-template replaces it")
    func convertEmbedsTemplate() throws {
        let folder = try Self.modelFolder()
        let output = try Fixtures.temporaryDirectory("chat-convert")
        let messages = output.appendingPathComponent("m.json")
        try JSONSerialization.data(withJSONObject: Self.expected["turns+gen"]!["messages"]!).write(to: messages)
        let expectedPrompt = Self.expected["turns+gen"]!["prompt"] as! String
        for name in ["m.mvlm", "m.gguf"] {
            let file = output.appendingPathComponent(name).path
            let converted = try CommandLineTool.run(["convert", folder, "-o", file, "--quant", "f16"])
            #expect(converted.status == 0, "\(converted.stderr)")
            // The folder is gone: the file alone carries the tokenizer and its chat_template.jinja.
            let rendered = try CommandLineTool.run(["chat-template", file, "--messages", messages.path, "--add-generation-prompt"])
            #expect(rendered.status == 0, "\(rendered.stderr)")
            #expect(rendered.stdout == expectedPrompt, "\(name)")
        }
        let template = output.appendingPathComponent("other.jinja")
        try "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}".write(to: template, atomically: true, encoding: .utf8)
        for name in ["o.mvlm", "o.gguf"] {
            let file = output.appendingPathComponent(name).path
            let converted = try CommandLineTool.run(["convert", folder, "-o", file, "--quant", "f16", "--chat-template", template.path])
            #expect(converted.status == 0, "\(converted.stderr)")
            let rendered = try CommandLineTool.run(["chat-template", file, "--messages", messages.path])
            #expect(rendered.stdout == "[system] Be brief.\n[user] hello\n[assistant]  world \n[user] Ünïcode?\n", "\(name)")
        }
    }
}
