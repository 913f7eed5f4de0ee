import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTestSupport
import MVLMTokenizer
import Testing

/// Byte-level BPE against Hugging Face tokenizers on every corpus entry: a tokenizer.json trained
/// by tokenizers (SmolLM2's pre-tokenizer) and the same vocabulary with the Llama 3 regex.
@Suite("Byte-level BPE matches Hugging Face tokenizers")
struct ByteLevelReferenceTests {
    @Test(arguments: ["hf_bytelevel", "hf_llama3"])
    func tokenizerJSONFolder(folder: String) throws {
        let tokenizer = try Tokenizer(folder: TokenizerFixtures.url(folder).path)
        let reference = try TokenizerFixtures.reference("\(folder)/ids.json")
        let corpus = TokenizerFixtures.corpus
        try #require(reference.ids.count == corpus.count)
        var agreement = Agreement()
        var wrongDecodes: [Int] = []
        for (index, text) in corpus.enumerated() {
            agreement.compare(index, tokenizer.encode(text), reference.ids[index], text: text)
            if tokenizer.decode(reference.ids[index]) != reference.decoded[index] { wrongDecodes.append(index) }
        }
        #expect(agreement.mismatchCount == 0, "\(agreement)")
        #expect(wrongDecodes.isEmpty, "decoded differently: \(wrongDecodes.prefix(20))")
        #expect(agreement.ids > 40_000)
        print("\(folder): \(agreement)")
    }

    @Test func tokenizerConfigIsRead() throws {
        let tokenizer = try Tokenizer(folder: TokenizerFixtures.url("hf_bytelevel").path)
        let config = try #require(try TokenizerFixtures.json("hf_bytelevel/tokenizer_config.json") as? [String: Any])
        let json = try #require(try TokenizerFixtures.json("hf_bytelevel/tokenizer.json") as? [String: Any])
        let added = try #require(json["added_tokens"] as? [[String: Any]])
        func id(_ content: String) -> Int? { added.first { $0["content"] as? String == content }?["id"] as? Int }
        #expect(tokenizer.bosID != nil && tokenizer.bosID == id(config["bos_token"] as! String))
        #expect(tokenizer.eosID == id("<|im_end|>"))
        #expect(tokenizer.paddingID == id("<|endoftext|>"))
        #expect(tokenizer.addBOS == false)
        #expect(tokenizer.chatTemplate == config["chat_template"] as? String)
        #expect(tokenizer.addedTokens.count == added.count)
    }
}

/// SmolLM2-135M's real vocabulary from its GGUF (real-file set): ids from tokenizers with
/// llama.cpp's "smollm" pre-tokenizer, cross-checked against llama.cpp's llama-tokenize.
@Suite("SmolLM2 GGUF tokenizer (real-file set)")
struct SmolLM2TokenizerTests {
    static let enabled = TokenizerFixtures.realFiles != nil

    static func metadata() throws -> [String: MetadataValue] {
        try GGUFReader(path: TokenizerFixtures.smolLM2Path).metadata
    }

    @Test(.enabled(if: enabled, "set MVLM_REAL_FILES to the folder .ci/setup fills"))
    func everyCorpusEntryHasTheReferenceIds() throws {
        let metadata = try Self.metadata()
        let tokenizer = try Tokenizer(ggufMetadata: metadata)
        let reference = try TokenizerFixtures.reference("smollm2_ids.json", key: "smollm")
        let corpus = TokenizerFixtures.corpus
        try #require(reference.ids.count == corpus.count)
        var agreement = Agreement()
        var wrongDecodes: [Int] = []
        for (index, text) in corpus.enumerated() {
            agreement.compare(index, tokenizer.encode(text), reference.ids[index], text: text)
            if tokenizer.decode(reference.ids[index]) != reference.decoded[index] { wrongDecodes.append(index) }
        }
        #expect(agreement.mismatchCount == 0, "\(agreement)")
        #expect(wrongDecodes.isEmpty, "decoded differently: \(wrongDecodes.prefix(20))")
        #expect(agreement.ids > 50_000)
        print("smollm2/smollm: \(agreement)")
        // The metadata's special tokens.
        #expect(tokenizer.bosID == metadata["tokenizer.ggml.bos_token_id"]?.intValue)
        #expect(tokenizer.eosID == metadata["tokenizer.ggml.eos_token_id"]?.intValue)
        #expect(tokenizer.addBOS == (metadata["tokenizer.ggml.add_bos_token"] == .bool(true)))
        #expect(tokenizer.chatTemplate == metadata["tokenizer.chat_template"]?.stringValue)
    }

    /// The same vocabulary under the other two hand-written splitters.
    @Test(.enabled(if: enabled, "set MVLM_REAL_FILES to the folder .ci/setup fills"),
          arguments: ["llama3", "gpt2"])
    func otherPreTokenizers(name: String) throws {
        let metadata = try Self.metadata()
        var patched = metadata
        patched["tokenizer.ggml.pre"] = .string(name == "llama3" ? "llama-bpe" : "gpt2")
        let tokenizer = try Tokenizer(ggufMetadata: patched)
        guard case .byteLevelBPE(let gguf) = tokenizer.model else { Issue.record("not byte-level"); return }
        // The reference was made without ignore_merges; rebuild with the same splitter and merges.
        let bpe = try ByteLevelBPE(
            tokens: gguf.tokens, merges: Self.merges(metadata), preTokenizer: gguf.preTokenizer, ignoreMerges: false)
        let plain = try Tokenizer(
            model: .byteLevelBPE(bpe), addedTokens: tokenizer.addedTokens, specialIDs: tokenizer.specialIDs)
        let reference = try TokenizerFixtures.reference("smollm2_ids.json", key: name)
        var agreement = Agreement()
        for (index, text) in TokenizerFixtures.corpus.enumerated() {
            agreement.compare(index, plain.encode(text), reference.ids[index], text: text)
        }
        #expect(agreement.mismatchCount == 0, "\(agreement)")
        print("smollm2/\(name): \(agreement)")
    }

    static func merges(_ metadata: [String: MetadataValue]) -> [(String, String)] {
        (metadata["tokenizer.ggml.merges"]?.arrayValue ?? []).compactMap { value in
            guard let merge = value.stringValue, let space = merge.dropFirst().firstIndex(of: " ") else { return nil }
            return (String(merge[..<space]), String(merge[merge.index(after: space)...]))
        }
    }

    /// The generator recorded how many sampled lines llama.cpp's own tokenizer agreed on.
    @Test func llamaCppAgreedWithTheReference() throws {
        let object = try #require(try TokenizerFixtures.json("smollm2_ids.json") as? [String: Any])
        let check = try #require(object["llamacpp_check"] as? [String: Any])
        let lines = try #require(check["lines"] as? Int)
        #expect(lines >= 300)
        #expect(check["identical"] as? Int == lines, "llama.cpp disagreed on \(check["disagreeing_entries"] ?? [])")
        let unicode = try #require(object["llamacpp_unicode_check"] as? [String: Any])
        let blocks = try #require(unicode["blocks"] as? Int)
        #expect(blocks > 1000 && unicode["identical"] as? Int == blocks, "llama.cpp disagreed on \(unicode["disagreeing_blocks"] ?? [])")
    }

    @Test(.enabled(if: enabled, "set MVLM_REAL_FILES to the folder .ci/setup fills"))
    func specialTokens() throws {
        let metadata = try Self.metadata()
        let tokenizer = try Tokenizer(ggufMetadata: metadata)
        let tokens = metadata["tokenizer.ggml.tokens"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let start = try #require(tokens.firstIndex(of: "<|im_start|>"))
        let end = try #require(tokens.firstIndex(of: "<|im_end|>"))
        let text = "<|im_start|>user\nHello<|im_end|>"
        let ids = tokenizer.encode(text)
        #expect(ids.first == start && ids.last == end)
        #expect(ids.dropFirst().dropLast() == ArraySlice(tokenizer.encode("user\nHello")))
        #expect(tokenizer.decode(ids) == text)
        #expect(tokenizer.decode(ids, skipSpecial: true) == "user\nHello")
        // Without parsing, the markers are ordinary text.
        let literal = tokenizer.encode(text, parseSpecial: false)
        #expect(!literal.contains(start) && !literal.contains(end))
        #expect(tokenizer.decode(literal) == text)
        // BOS on request.
        let bos = try #require(tokenizer.bosID)
        #expect(tokenizer.encode("Hi", addBOS: true) == [bos] + tokenizer.encode("Hi", addBOS: false))
    }
}
