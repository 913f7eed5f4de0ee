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
    static func runPiped(_ arguments: [String], input: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = CommandLineTool.executable
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData = stderr.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self), stderr: String(decoding: errorData, as: UTF8.self))
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
}
