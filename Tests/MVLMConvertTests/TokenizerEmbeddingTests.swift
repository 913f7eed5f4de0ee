import Foundation
import MVLMTestSupport
import Testing

/// The tokenizer travels inside the .mvlm file: `convert` embeds the source's tokenizer files (or
/// `--tokenizer`), `inspect` names it, and `run --prompt` on the file finds it without help.
@Suite("tokenizer inside .mvlm files")
struct TokenizerEmbeddingTests {
    /// A copy of a tiny LLaMA fixture with a SentencePiece model beside it (written by the real
    /// sentencepiece trainer, Tests/Fixtures/gen_tokenizer.py).
    static func folderWithTokenizer() throws -> String {
        let folder = try Fixtures.temporaryDirectory()
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: Fixtures.path("llama/mha_f32/\(name)"), toPath: folder.appendingPathComponent(name).path)
        }
        try FileManager.default.copyItem(
            atPath: Fixtures.path("tokenizer/sp_bpe.model"), toPath: folder.appendingPathComponent("tokenizer.model").path)
        return folder.path
    }

    @Test("the source's tokenizer.model is embedded, named by inspect, and found by run --prompt")
    func embedded() throws {
        let source = try Self.folderWithTokenizer()
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("t.mvlm").path
        let plan = try CommandLineTool.run(["convert", source, "--quant", "q8_0", "--dry-run", "--json", "--no-verify"])
        let predicted = try #require((try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])?["predicted_file_bytes"] as? Int)
        #expect(try CommandLineTool.run(["convert", source, "-o", file, "--quant", "q8_0", "--no-verify"]).status == 0)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber).intValue
        #expect(size == predicted, "the embedded tokenizer is part of the predicted size")
        let inspect = try CommandLineTool.run(["inspect", file])
        #expect(inspect.stdout.contains("tokenizer     embedded files: tokenizer.model"), "\(inspect.stdout)")
        // The fixture model's vocabulary (256) is smaller than the tokenizer's: run --prompt finds the
        // embedded tokenizer (no --tokenizer given) and refuses the pair with a clear message.
        let run = try CommandLineTool.run(["run", file, "--prompt", "hello world"])
        #expect(run.status == 1 && run.stderr.contains("pass the model's own tokenizer"), "\(run.stderr)")
        // Without a tokenizer anywhere, the error says how to give one.
        let bare = try Fixtures.temporaryDirectory().appendingPathComponent("b.mvlm").path
        #expect(try CommandLineTool.run(["convert", Fixtures.path("llama/mha_f32"), "-o", bare, "--quant", "q8_0"]).status == 0)
        let none = try CommandLineTool.run(["run", bare, "--prompt", "hello"])
        #expect(none.status == 1 && none.stderr.contains("--tokenizer"))
        let wrong = try CommandLineTool.run(["convert", source, "-o", bare, "--tokenizer", Fixtures.path("llama/mha_f32")])
        #expect(wrong.status == 1 && wrong.stderr.contains("no tokenizer.model or tokenizer.json"), "\(wrong.stderr)")
    }
}
