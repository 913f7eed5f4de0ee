import Foundation
import MVLMCore
import MVLMModelFile
import MVLMTestSupport
import Testing

/// A manifest `tokenizer` field that is broken gives a clear error naming the file and the field.
@Suite("broken manifest tokenizers")
struct ManifestTokenizerTests {
    static func file(tokenizer: MetadataValue) throws -> String {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("t.mvlm").path
        var manifest = ModelManifest(architecture: "llama")
        manifest.tokenizer = tokenizer
        try ModelFileWriter(path: path).finish(manifest: manifest)
        return path
    }

    @Test("not base64, or neither files nor gguf")
    func broken() throws {
        let notBase64 = try Self.file(tokenizer: .object(["files": .object(["tokenizer.json": .string("!!not base64!!")])]))
        let a = try CommandLineTool.run(["run", notBase64, "--prompt", "hi"])
        #expect(a.status == 1 && a.stderr.contains("manifest tokenizer") && a.stderr.contains("'tokenizer.json' is not base64"), "\(a.stderr)")
        let neither = try Self.file(tokenizer: .object(["vocab": .array([], elementType: "JSON")]))
        let b = try CommandLineTool.run(["run", neither, "--prompt", "hi"])
        #expect(b.status == 1 && b.stderr.contains("has neither 'files' nor 'gguf'"), "\(b.stderr)")
        let notTokenizer = try CommandLineTool.run(["run", Fixtures.path("llama/mha_f32"), "--prompt", "hi", "--tokenizer", Fixtures.path("llama/mha_f32/model.safetensors")])
        #expect(notTokenizer.status == 1 && notTokenizer.stderr.contains("not a tokenizer folder, tokenizer file or GGUF"), "\(notTokenizer.stderr)")
    }
}
