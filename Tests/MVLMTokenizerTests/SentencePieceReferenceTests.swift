import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTestSupport
import MVLMTokenizer
import Testing

/// Our SentencePiece against the real `sentencepiece` on every corpus entry: models trained by
/// sentencepiece's own trainer with LLaMA's settings, ids and decoded texts from
/// `SentencePieceProcessor` (Tests/Fixtures/gen_tokenizer.py).
@Suite("SentencePiece matches sentencepiece")
struct SentencePieceReferenceTests {
    static let models = ["sp_bpe", "sp_unigram", "sp_bpe_user", "sp_unigram_user", "sp_bpe_unused", "sp_unigram_unused"]

    @Test(arguments: models)
    func everyCorpusEntryHasTheReferenceIds(model name: String) throws {
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("\(name).model"))
        let reference = try TokenizerFixtures.reference("\(name)_ids.json")
        let corpus = TokenizerFixtures.corpus
        try #require(corpus.count >= 2000 && reference.ids.count == corpus.count)
        var agreement = Agreement()
        for (index, text) in corpus.enumerated() {
            agreement.compare(index, model.encode(text), reference.ids[index], text: text)
        }
        #expect(agreement.mismatchCount == 0, "\(agreement)")
        #expect(agreement.ids > 40_000)
        print("\(name): \(agreement)")
    }

    @Test(arguments: models)
    func decodingTheReferenceIdsGivesTheReferenceText(model name: String) throws {
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("\(name).model"))
        let reference = try TokenizerFixtures.reference("\(name)_ids.json")
        var wrong: [Int] = []
        for (index, ids) in reference.ids.enumerated() where model.decode(ids) != reference.decoded[index] {
            wrong.append(index)
        }
        #expect(wrong.isEmpty, "entries decoded differently: \(wrong.prefix(20))")
    }

    /// The same vocabulary as GGUF metadata ("llama" model, written by gguf-py): every entry as
    /// sentencepiece encodes it. llama.cpp's SPM tokenizer agreed with sentencepiece on the sample
    /// the generator checked (sp_bpe_gguf_check.json).
    @Test func ggufLlamaVocabulary() throws {
        let reader = try GGUFReader(path: TokenizerFixtures.url("sp_bpe.gguf").path)
        let tokenizer = try Tokenizer(ggufMetadata: reader.metadata, context: "sp_bpe.gguf")
        let reference = try TokenizerFixtures.reference("sp_bpe_ids.json")
        var agreement = Agreement()
        var wrongDecodes: [Int] = []
        for (index, text) in TokenizerFixtures.corpus.enumerated() {
            agreement.compare(index, tokenizer.encode(text, addBOS: false, parseSpecial: false), reference.ids[index], text: text)
            if tokenizer.decode(reference.ids[index], skipSpecial: true) != reference.decoded[index] { wrongDecodes.append(index) }
        }
        #expect(agreement.mismatchCount == 0, "\(agreement)")
        #expect(wrongDecodes.isEmpty, "decoded differently: \(wrongDecodes.prefix(20))")
        print("sp_bpe.gguf: \(agreement)")
        let bos = try #require(reader.metadata["tokenizer.ggml.bos_token_id"]?.intValue)
        #expect(tokenizer.addBOS && tokenizer.encode("Hi").first == bos)
        let check = try #require(try TokenizerFixtures.json("sp_bpe_gguf_check.json") as? [String: Any])
        let lines = try #require(check["lines"] as? Int)
        #expect(lines >= 400 && check["identical"] as? Int == lines, "llama.cpp disagreed: \(check)")
    }

    /// Special ids and the unknown surface as sentencepiece reports them (the `_user` models use
    /// non-default values, so these are parsed, not defaults).
    @Test(arguments: models)
    func specialIDsAndUnknownSurface(model name: String) throws {
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("\(name).model"))
        let reference = try #require(try TokenizerFixtures.json("\(name)_ids.json") as? [String: Any])
        func id(_ key: String) -> Int? { (reference[key] as? Int).flatMap { $0 < 0 ? nil : $0 } }
        #expect(model.pieces.count == reference["pieces"] as? Int)
        #expect(model.unknownID == id("unk") && model.bosID == id("bos") && model.eosID == id("eos"))
        #expect(model.padID == id("pad"))
        #expect(model.decode([model.unknownID]) == reference["unk_decoded"] as? String)
    }

    @Test func parsedOptionsAreLLaMAs() throws {
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("sp_bpe.model"))
        let reference = try #require(try TokenizerFixtures.json("sp_bpe_ids.json") as? [String: Any])
        #expect(model.algorithm == .bpe)
        #expect(model.pieces.count == reference["pieces"] as? Int)
        #expect(model.bosID == reference["bos"] as? Int && model.eosID == reference["eos"] as? Int)
        #expect(model.unknownID == reference["unk"] as? Int && model.padID == nil)
        #expect(model.options.addDummyPrefix && !model.options.removeExtraWhitespaces && model.options.byteFallback)
        #expect(model.pieces.filter { $0.type == .byte }.count == 256)
    }

    /// Byte fallback: a character the vocabulary lacks becomes its UTF-8 bytes, which decode back.
    @Test func unknownCharactersFallBackToBytes() throws {
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("sp_bpe.model"))
        let text = "\u{1F980}\u{10348}"  // not in the training corpus
        let ids = model.encode(text)
        let bytePieces = ids.filter { model.pieces[$0].type == .byte }
        #expect(bytePieces.count == Array(text.utf8).count)
        #expect(model.decode(ids) == text)
        // A lone byte piece that is not valid UTF-8 decodes to U+FFFD per byte.
        let continuation = try #require(model.id(ofPiece: "<0x80>"))
        #expect(model.decode([continuation, continuation]) == "\u{FFFD}\u{FFFD}")
    }
}
