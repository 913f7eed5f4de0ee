import Foundation
import MVLMCore
import MVLMTemplate
import MVLMTestSupport
import Testing

/// llama.cpp's chat-template corpus rendered by our engine against transformers + jinja2's output
/// (Tests/Fixtures/gen_chat_templates.py). The templates themselves are not committed: .ci/templates
/// downloads the llama-cpp-python sdist and sets MVLM_LLAMACPP_TEMPLATES to its models/templates.
@Suite("llama.cpp template corpus")
struct CorpusTests {
    static let folder = ProcessInfo.processInfo.environment["MVLM_LLAMACPP_TEMPLATES"]

    /// Templates whose outputs are known to differ from jinja2's, with the reason (docs/chat-templates.md).
    static let knownExceptions: [String: String] = [:]

    @Test(
        "every corpus template renders byte for byte as transformers' jinja2 does, or fails where it fails",
        .enabled(if: folder != nil, "set MVLM_LLAMACPP_TEMPLATES to llama.cpp's models/templates (run .ci/templates)"))
    func corpus() throws {
        let folder = try #require(Self.folder)
        let expected = try loadExpectedJSON("templates/llamacpp_expected.json")
        let templates = try #require(expected["templates"] as? [String: [String: Any]])
        let conversations = try #require(expected["conversations"] as? [String: Any])
        let special = try #require(expected["special_tokens"] as? [String: String])
        let date = try #require(expected["date"] as? [Int])
        let now = TemplateDate(year: date[0], month: date[1], day: date[2], hour: date[3], minute: date[4], second: date[5])
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jinja") }.sorted()
        #expect(Set(files) == Set(templates.keys), "the corpus folder holds other templates than the expectations")
        var passed: [String] = [], failed: [String] = []
        for file in files {
            guard let entry = templates[file] else { continue }
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file)))
            #expect(SHA256.hex(bytes) == entry["sha256"] as? String, "\(file) is not the template the expectations were made from")
            let source = String(decoding: bytes, as: UTF8.self)
            var problems: [String] = []
            let compiled: ChatTemplate?
            do {
                compiled = try ChatTemplate(source, name: file)
            } catch {
                compiled = nil
                problems.append("compile: \(error)")
            }
            for case let item as [String: Any] in entry["cases"] as? [Any] ?? [] {
                let name = item["conversation"] as! String
                let generation = item["add_generation_prompt"] as! Bool
                let messagesJSON = try JSONSerialization.data(withJSONObject: conversations[name]!, options: [.sortedKeys])
                // Key order matters to tojson and items(): rebuild each message as role, content.
                let messages = try Self.orderedMessages(messagesJSON)
                let context = ChatTemplate.context(messages: messages, addGenerationPrompt: generation, specialTokens: special)
                let label = "\(name)\(generation ? "+gen" : "")"
                if let output = item["output"] as? String {
                    guard let compiled else { continue }
                    do {
                        let ours = try compiled.render(context, now: now)
                        if ours != output { problems.append("\(label): differs at \(Self.firstDifference(ours, output))") }
                    } catch {
                        problems.append("\(label): we failed where jinja2 rendered: \(error)")
                    }
                } else if let compiled {
                    if let ours = try? compiled.render(context, now: now) {
                        problems.append("\(label): jinja2 failed (\(item["error"] ?? "")) but we rendered \(ours.prefix(60).debugDescription)")
                    }
                }
            }
            if problems.isEmpty {
                passed.append(file)
            } else if let reason = Self.knownExceptions[file] {
                print("known exception \(file): \(reason)")
            } else {
                failed.append(file)
                Issue.record("\(file): \(problems.prefix(3).joined(separator: "; "))")
            }
        }
        print("template corpus: \(passed.count) pass, \(failed.count) fail, \(Self.knownExceptions.count) known exceptions")
        print("pass: \(passed.joined(separator: " "))")
        if !failed.isEmpty { print("FAIL: \(failed.joined(separator: " "))") }
    }

    static func orderedMessages(_ sortedJSON: Data) throws -> TemplateValue {
        let parsed = try TemplateValue(json: [UInt8](sortedJSON))
        guard case .list(let items) = parsed else { return parsed }
        return .list(items.map { item in
            guard case .dict(let dict) = item else { return item }
            var ordered = TemplateDict()
            for key in ["role", "content"] where dict[key] != nil { ordered[key] = dict[key] }
            for (key, value) in dict.entries where ordered[key] == nil { ordered[key] = value }
            return .dict(ordered)
        })
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        var index = 0
        while index < min(x.count, y.count), x[index] == y[index] { index += 1 }
        func around(_ s: [Unicode.Scalar]) -> String {
            var out = ""
            out.unicodeScalars.append(contentsOf: s[max(0, index - 20)..<min(s.count, index + 30)])
            return out.debugDescription
        }
        return "scalar \(index): ours \(around(x)) vs jinja2 \(around(y))"
    }
}
