import Foundation
import MVLMCore
import MVLMModelFile
import MVLMTestSupport
import Testing

/// `mvlm tokenize` and `mvlm detokenize` on the committed tokenizer fixtures, whose reference ids
/// come from sentencepiece and Hugging Face tokenizers (Tests/Fixtures/gen_tokenizer.py), and their
/// one-line errors.
@Suite("mvlm tokenize / detokenize")
struct TokenizeCommandTests {
    static func reference(_ name: String) throws -> (texts: [String], ids: [[Int]]) {
        let corpus = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tokenizer/corpus.json"))))
                as? [String])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tokenizer/\(name)"))))
                as? [String: Any])
        return (corpus, try #require(object["ids"] as? [[Int]]))
    }

    /// A vocabulary-only GGUF (SentencePiece "llama"): sentencepiece's ids, and BOS first by default.
    @Test func vocabularyOnlyGGUF() throws {
        let gguf = Fixtures.path("tokenizer/sp_bpe.gguf")
        let (texts, ids) = try Self.reference("sp_bpe_ids.json")
        for index in 0..<2 {
            let plain = try CommandLineTool.run(["tokenize", gguf, "--text", texts[index], "--no-bos"])
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.stdout == ids[index].map(String.init).joined(separator: " ") + "\n")
        }
        let withBOS = try CommandLineTool.run(["tokenize", gguf, "--text", texts[0], "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(withBOS.stdout.utf8)) as? [String: Any])
        #expect(object["ids"] as? [Int] == [1] + ids[0])
        #expect(object["count"] as? Int == ids[0].count + 1)
        let tokens = try #require(object["tokens"] as? [[String: Any]])
        #expect(tokens.first?["token"] as? String == "<s>")
        #expect(tokens.dropFirst().map { $0["text"] as? String ?? "?" }.joined() == " " + texts[0])
        // And back: sentencepiece's ids decode to the text.
        let back = try CommandLineTool.run(["detokenize", gguf, "--ids", ids[1].map(String.init).joined(separator: ",")])
        #expect(back.status == 0 && back.stdout == texts[1] + "\n", "\(back.stderr)")
    }

    /// A tokenizer.json folder, and the same files embedded in an .mvlm manifest.
    @Test func folderAndModelFile() throws {
        let folder = Fixtures.path("tokenizer/hf_bytelevel")
        let (texts, ids) = try Self.reference("hf_bytelevel/ids.json")
        let direct = try CommandLineTool.run(["tokenize", folder, "--text", texts[1]])
        #expect(direct.status == 0 && direct.stdout == ids[1].map(String.init).joined(separator: " ") + "\n", "\(direct.stderr)")

        var files: [String: MetadataValue] = [:]
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
            files[name] = .string(data.base64EncodedString())
        }
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("tok.mvlm").path
        var manifest = ModelManifest(architecture: "llama")
        manifest.tokenizer = .object(["files": .object(files)])
        try ModelFileWriter(path: path).finish(manifest: manifest)
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("text.txt")
        try Data(texts[1].utf8).write(to: file)
        let embedded = try CommandLineTool.run(["tokenize", path, "--file", file.path])
        #expect(embedded.status == 0 && embedded.stdout == direct.stdout, "\(embedded.stderr)")
        let back = try CommandLineTool.run(["detokenize", path, "--ids", "[" + ids[1].map(String.init).joined(separator: ", ") + "]", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(back.stdout.utf8)) as? [String: Any])
        #expect(object["text"] as? String == texts[1])
    }

    @Test func errorsAreOneLine() throws {
        let gguf = Fixtures.path("tokenizer/sp_bpe.gguf")
        let directory = try Fixtures.temporaryDirectory()
        let truncated = directory.appendingPathComponent("cut.gguf")
        try Data(try Data(contentsOf: URL(fileURLWithPath: gguf)).prefix(100)).write(to: truncated)
        let binary = directory.appendingPathComponent("binary.txt")
        try Data([0x61, 0xFF, 0xFE, 0x62]).write(to: binary)
        let cases: [([String], String)] = [
            (["tokenize", directory.appendingPathComponent("missing").path, "--text", "a"], "no such file or folder"),
            (["tokenize", Fixtures.path("llama/mha_f32"), "--text", "a"], "no tokenizer found"),
            (["tokenize", truncated.path, "--text", "a"], "cut.gguf"),
            (["tokenize", gguf, "--file", directory.appendingPathComponent("none.txt").path], "no such file"),
            (["tokenize", gguf, "--file", binary.path], "not valid UTF-8"),
            (["detokenize", gguf, "--ids", "5,abc"], "'abc' is not a token id"),
            (["detokenize", gguf, "--ids", "5 3000000"], "token id 3000000 (position 2) is outside the vocabulary"),
            (["detokenize", gguf, "--ids=-1"], "is not a token id"),
        ]
        for (arguments, message) in cases {
            let result = try CommandLineTool.run(arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let usage = try CommandLineTool.run(["tokenize", gguf])
        #expect(usage.status == 64 && usage.stderr.contains("--text"))
    }
}
