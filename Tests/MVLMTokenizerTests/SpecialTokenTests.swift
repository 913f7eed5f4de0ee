import Foundation
import MVLMCore
import MVLMTestSupport
import MVLMTokenizer
import Testing

@Suite("Special tokens, added tokens and folders")
struct SpecialTokenTests {
    /// A LLaMA-style folder: the trained model as tokenizer.model plus a tokenizer_config.json.
    static func llamaFolder(config: String?) throws -> URL {
        let folder = try Fixtures.temporaryDirectory("mvlm-tokenizer")
        try Data(TokenizerFixtures.bytes("sp_bpe.model")).write(to: folder.appendingPathComponent("tokenizer.model"))
        if let config { try Data(config.utf8).write(to: folder.appendingPathComponent("tokenizer_config.json")) }
        return folder
    }

    @Test func sentencePieceFolderAddsBOSAndParsesControlTokens() throws {
        let folder = try Self.llamaFolder(config: nil)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try Tokenizer(folder: folder.path)
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("sp_bpe.model"))
        let bos = try #require(model.bosID)
        let eos = try #require(model.eosID)
        #expect(tokenizer.addBOS && tokenizer.bosID == bos && tokenizer.eosID == eos)
        let text = "Hello world"
        #expect(tokenizer.encode(text) == [bos] + model.encode(text))
        #expect(tokenizer.encode(text, addBOS: false) == model.encode(text))
        // "<s>" and "</s>" in text are the control tokens when parsing special tokens...
        let ids = tokenizer.encode("<s>Hi</s>", addBOS: false)
        #expect(ids.first == bos && ids.last == eos)
        #expect(ids.dropFirst().dropLast() == ArraySlice(model.encode("Hi")))
        // ...and plain characters otherwise, exactly as sentencepiece encodes them.
        #expect(tokenizer.encode("<s>Hi</s>", addBOS: false, parseSpecial: false) == model.encode("<s>Hi</s>"))
        // Decoding: control tokens vanish when skipped, show as text otherwise.
        #expect(tokenizer.decode([bos] + model.encode(text) + [eos], skipSpecial: true) == text)
        #expect(tokenizer.decode([bos] + model.encode(text) + [eos]) == "<s>\(text)</s>")
    }

    @Test func tokenizerConfigOverridesDefaults() throws {
        let folder = try Self.llamaFolder(config: #"{"add_bos_token": false, "add_eos_token": true, "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}"#)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try Tokenizer(folder: folder.path)
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("sp_bpe.model"))
        #expect(!tokenizer.addBOS && tokenizer.addEOS && tokenizer.chatTemplate == "D")
        #expect(tokenizer.encode("abc") == model.encode("abc") + [model.eosID!])
    }

    @Test func emptyFolderIsNotFound() throws {
        let folder = try Fixtures.temporaryDirectory("mvlm-tokenizer")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect { try Tokenizer(folder: folder.path) } throws: { ($0 as? MVLMError)?.code == .notFound }
    }

    /// Non-special added tokens are matched even without special-token parsing, and both merge
    /// formats of tokenizer.json ("a b" strings and [a, b] pairs) give the same tokenizer.
    @Test func addedTokensAndMergeFormats() throws {
        let pairs = try Tokenizer(folder: TokenizerFixtures.url("hf_bytelevel").path)
        var json = try #require(try TokenizerFixtures.json("hf_bytelevel/tokenizer.json") as? [String: Any])
        var model = try #require(json["model"] as? [String: Any])
        let merges = try #require(model["merges"] as? [[String]])
        model["merges"] = merges.map { $0.joined(separator: " ") }
        json["model"] = model
        let strings = try Tokenizer(huggingFaceJSON: Array(try JSONSerialization.data(withJSONObject: json)))
        let user = try #require(pairs.addedTokens.first { !$0.isSpecial })
        let text = "plain \(user.content) and <|im_start|> 12345 text"
        let ids = pairs.encode(text, parseSpecial: false)
        #expect(ids.contains(user.id))
        #expect(!ids.contains(pairs.addedTokens.first { $0.content == "<|im_start|>" }!.id))
        #expect(strings.encode(text) == pairs.encode(text))
        for line in TokenizerFixtures.corpus.prefix(200) { #expect(strings.encode(line) == pairs.encode(line)) }
        #expect(pairs.decode(ids) == text)
    }
}
