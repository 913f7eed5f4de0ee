import Foundation
import MVLMCore
import MVLMTestSupport
import MVLMTokenizer
import Testing

/// Hostile `tokenizer.model` files and GGUF tokenizer metadata must fail with MVLMError and a
/// message that says what is wrong, never trap.
@Suite("Hostile tokenizer files")
struct HostileModelTests {
    static func parse(_ bytes: [UInt8]) throws -> SentencePieceModel {
        try SentencePieceModel(serializedModel: bytes, context: "hostile.model")
    }

    /// A varint, as protobuf writes it.
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    static func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(UInt64(number << 3 | 2)) + varint(UInt64(payload.count)) + payload
    }

    static func piece(_ text: String, score: Float = 0, type: Int = 1) -> [UInt8] {
        let scoreBits = score.bitPattern
        let scoreBytes = (0..<4).map { UInt8(truncatingIfNeeded: scoreBits >> (8 * $0)) }
        return field(1, field(1, Array(text.utf8)) + [0x15] + scoreBytes + [0x18] + varint(UInt64(type)))
    }

    /// A minimal valid BPE model: <unk>, <s>, </s>, a, b, ab.
    static func minimalModel(extraTrainer: [UInt8] = [], normalizer: [UInt8] = []) -> [UInt8] {
        piece("<unk>", type: 2) + piece("<s>", type: 3) + piece("</s>", type: 3) + piece("a", score: -1)
            + piece("b", score: -2) + piece("ab", score: -0.5) + piece("\u{2581}", score: -3)
            + field(2, [0x18, 0x02] + extraTrainer) + field(3, normalizer)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var code: MVLMError.Code
        var keyword: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty file", bytes: [], code: .malformed, keyword: "no pieces"),
        Case(name: "pieces as a varint", bytes: [0x08, 0x01], code: .malformed, keyword: "wire type"),
        Case(name: "huge length", bytes: [0x0A] + varint(1 << 40), code: .truncated, keyword: "declares"),
        Case(name: "length past the end", bytes: [0x0A, 0x05, 0x0A, 0x01], code: .truncated, keyword: "declares"),
        Case(name: "varint of 11 bytes", bytes: [0x0A] + [UInt8](repeating: 0xFF, count: 11), code: .malformed, keyword: "varint"),
        Case(name: "varint cut off", bytes: [0x0A, 0xFF], code: .truncated, keyword: "varint"),
        Case(name: "group", bytes: [0x0B], code: .malformed, keyword: "group"),
        Case(name: "wire type 7", bytes: [0x0F], code: .malformed, keyword: "wire type"),
        Case(name: "field number 0", bytes: [0x02, 0x00], code: .malformed, keyword: "field number"),
        Case(name: "piece text not UTF-8", bytes: field(1, field(1, [0xFF, 0xFE])), code: .malformed, keyword: "UTF-8"),
        Case(name: "score as a varint", bytes: field(1, field(1, Array("a".utf8)) + [0x10, 0x01]), code: .malformed, keyword: "score"),
        Case(name: "score cut off", bytes: field(1, field(1, Array("a".utf8)) + [0x15, 0x00, 0x00]), code: .truncated, keyword: "fixed32"),
        Case(name: "piece type 9", bytes: field(1, field(1, Array("a".utf8)) + [0x18, 0x09]), code: .malformed, keyword: "type"),
        Case(name: "piece without text", bytes: field(1, [0x18, 0x01]), code: .malformed, keyword: "no text"),
        Case(name: "no unknown piece", bytes: piece("a") + piece("b") + piece("c"), code: .malformed, keyword: "UNKNOWN"),
        Case(name: "bos id out of range", bytes: minimalModel(extraTrainer: [0xC8, 0x02] + varint(99)), code: .malformed, keyword: "bos_id"),
        Case(name: "byte piece badly named", bytes: minimalModel() + piece("<0xZZ>", type: 6), code: .malformed, keyword: "<0xNN>"),
        Case(name: "byte piece with a sign", bytes: minimalModel() + piece("<0x+F>", type: 6), code: .malformed, keyword: "<0xNN>"),
        Case(name: "byte fallback without byte pieces", bytes: minimalModel(extraTrainer: [0x98, 0x02, 0x01]), code: .malformed, keyword: "byte_fallback"),
        Case(name: "WORD model", bytes: minimalModel(extraTrainer: [0x18, 0x03]), code: .unsupported, keyword: "WORD"),
        Case(name: "precompiled normalizer", bytes: minimalModel(normalizer: field(1, Array("nmt_nfkc".utf8)) + field(2, [1, 2, 3])), code: .unsupported, keyword: "nmt_nfkc"),
        Case(name: "trainer spec cut off", bytes: field(1, field(1, Array("<unk>".utf8)) + [0x18, 0x02]) + [0x12, 0x04, 0x18], code: .truncated, keyword: "declares"),
    ]

    @Test(arguments: cases)
    func failsWithMVLMError(_ hostile: Case) {
        do {
            _ = try Self.parse(hostile.bytes)
            Issue.record("\(hostile.name) parsed")
        } catch let error as MVLMError {
            #expect(error.code == hostile.code, "\(error)")
            #expect(error.description.contains(hostile.keyword), "\(error)")
            #expect(error.file == "hostile.model")
        } catch {
            Issue.record("not an MVLMError: \(error)")
        }
    }

    @Test func theMinimalModelIsValid() throws {
        let model = try Self.parse(Self.minimalModel())
        #expect(model.pieces.count == 7 && model.algorithm == .bpe)
        let ab = try #require(model.id(ofPiece: "ab"))
        #expect(model.encode("ab").contains(ab))
    }

    /// Every truncation of the real model either fails with MVLMError or (when it ends exactly at
    /// a field boundary) parses into a model that still encodes without trapping.
    @Test func everyTruncationFailsCleanly() throws {
        let bytes = try TokenizerFixtures.bytes("sp_bpe.model")
        var failures = 0
        var codes: Set<String> = []
        for length in stride(from: 0, to: bytes.count, by: 13) {
            do {
                let model = try Self.parse(Array(bytes[..<length]))
                _ = model.encode("Hello, world! 123 \u{4F60}\u{597D}")
            } catch let error as MVLMError {
                failures += 1
                codes.insert(error.code.rawValue)
            }
        }
        #expect(failures > bytes.count / 13 / 2)
        #expect(codes.contains("truncated"))
    }

    /// Seeded byte flips of the real model: MVLMError or a model that encodes and decodes.
    @Test func corruptedBytesNeverTrap() throws {
        let original = try TokenizerFixtures.bytes("sp_bpe.model")
        var random = SeededRandom(seed: 7)
        var failures = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            do {
                let model = try Self.parse(bytes)
                let ids = model.encode("The 3 quick \u{1F98A} jump\tover")
                _ = model.decode(ids + [-1, model.pieces.count, Int.max])
            } catch is MVLMError {
                failures += 1
            }
        }
        #expect(failures > 0)
    }

    @Test func randomBytesNeverTrap() {
        var random = SeededRandom(seed: 11)
        var failures = 0
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            do { _ = try Self.parse(bytes) } catch is MVLMError { failures += 1 } catch { Issue.record("\(error)") }
        }
        #expect(failures == 500)
    }

    // MARK: - GGUF metadata

    static func metadata(_ tokens: [String], merges: [String], pre: String = "smollm") -> [String: MetadataValue] {
        [
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string(pre),
            "tokenizer.ggml.tokens": .array(tokens.map { .string($0) }, elementType: "STRING"),
            "tokenizer.ggml.merges": .array(merges.map { .string($0) }, elementType: "STRING"),
        ]
    }

    static let alphabet = (33...126).map { String(UnicodeScalar(UInt8($0))) }

    @Test func ggufMetadataErrors() throws {
        func code(_ metadata: [String: MetadataValue]) -> MVLMError.Code? {
            do { _ = try Tokenizer(ggufMetadata: metadata); return nil } catch { return (error as? MVLMError)?.code }
        }
        #expect(code(Self.metadata(Self.alphabet, merges: ["a b"])) == .malformed)  // "ab" not in vocab
        #expect(code(Self.metadata(Self.alphabet, merges: ["a z9"])) == .malformed)
        #expect(code(Self.metadata(Self.alphabet, merges: ["ab"])) == .malformed)
        #expect(code(Self.metadata(Self.alphabet + ["ab"], merges: ["a b"], pre: "qwen9")) == .unsupported)
        var metadata = Self.metadata(Self.alphabet + ["ab"], merges: ["a b"])
        #expect(code(metadata) == nil)
        metadata["tokenizer.ggml.bos_token_id"] = .uint(1 << 40)
        #expect(code(metadata) == .malformed)
        metadata["tokenizer.ggml.bos_token_id"] = .string("1")
        #expect(code(metadata) == .malformed)
        metadata["tokenizer.ggml.bos_token_id"] = nil
        metadata["tokenizer.ggml.token_type"] = .array([.int(1)], elementType: "INT32")
        #expect(code(metadata) == .malformed)
        metadata["tokenizer.ggml.token_type"] = nil
        metadata["tokenizer.ggml.model"] = .string("t5")
        #expect(code(metadata) == .unsupported)
        metadata["tokenizer.ggml.model"] = nil
        #expect(code(metadata) == .notFound)
    }

    @Test func tokenizerJSONErrors() {
        func code(_ json: String) -> MVLMError.Code? {
            do { _ = try Tokenizer(huggingFaceJSON: Array(json.utf8)); return nil } catch { return (error as? MVLMError)?.code }
        }
        #expect(code("{") == .malformed)
        #expect(code("[]") == .malformed)
        #expect(code(#"{"model": {"type": "Unigram", "vocab": []}}"#) == .unsupported)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 5}, "merges": []}}"#) == .malformed)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 16777215}, "merges": []}}"#) == .malformed)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"content": "x", "id": 99}]}"#) == .malformed)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel"}}"#) == .malformed)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}}"#) == .unsupported)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}, "pre_tokenizer": {"type": "ByteLevel"}}"#) == nil)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}}"#) == .unsupported)
        #expect(code(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated"}, {"type": "ByteLevel"}]}}"#) == .unsupported)
    }
}
