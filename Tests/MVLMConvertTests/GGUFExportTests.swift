import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMGGUF
import MVLMGGUFExport
import MVLMModels
import MVLMTestSupport
import Testing
import MVLMModelLoading

/// `mvlm convert --format gguf` against files llama.cpp's own tools wrote from the same checkpoints
/// (Tests/Fixtures/gguf_export, from gen_gguf_export.py: convert_hf_to_gguf.py and llama-quantize).
@Suite("GGUF export matches llama.cpp's converter")
struct GGUFExportTests {
    static func tokenizerFiles(_ folder: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in ["tokenizer.model", "tokenizer.json", "tokenizer_config.json"] {
            let path = folder + "/" + name
            if FileManager.default.fileExists(atPath: path) { files[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
        }
        return files
    }

    /// Exports `folder` with `preset` (and `overrides`) to a temporary GGUF and returns its path.
    static func export(
        _ folder: String, _ preset: QuantizationPreset.Name, overrides: [String] = [], tokenizerFolder: String? = nil
    ) throws -> (path: String, export: GGUFExport) {
        let checkpoint = try Checkpoint.open(folder)
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(preset), overrides: try overrides.map { try TensorOverride(parsing: $0) },
            fuse: false)
        let files = try tokenizerFiles(tokenizerFolder ?? folder)
        let export = try GGUFExport.make(
            converter: ModelConverter(checkpoint: checkpoint, plan: plan),
            tokenizer: files.isEmpty ? .none : .files(files, origin: tokenizerFolder ?? folder))
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("out.gguf").path
        try export.write(to: path, projectorPath: directory.appendingPathComponent("out.mmproj.gguf").path)
        return (path, export)
    }

    static func expectSameFile(_ ours: String, _ reference: String) throws {
        let mine = try GGUFReader(path: ours)
        let theirs = try GGUFReader(path: reference)
        let mineKeys = Dictionary(uniqueKeysWithValues: mine.metadataEntries.map { ($0.key, $0) })
        let theirKeys = Dictionary(uniqueKeysWithValues: theirs.metadataEntries.map { ($0.key, $0) })
        #expect(Set(mineKeys.keys) == Set(theirKeys.keys))
        for (key, entry) in theirKeys {
            #expect(mineKeys[key] == entry, "key \(key): ours \(mineKeys[key]?.value.summary() ?? "missing"), llama.cpp's \(entry.value.summary())")
        }
        #expect(Set(mine.tensorInfos.map(\.name)) == Set(theirs.tensorInfos.map(\.name)))
        for info in theirs.tensorInfos {
            guard let ourInfo = mine.tensorInfos.first(where: { $0.name == info.name }) else { continue }
            #expect(ourInfo.dtype == info.dtype && ourInfo.shape == info.shape, "\(info.name)")
            let same = try mine.tensor(named: info.name).withUnsafeBytes { a in
                try theirs.tensor(named: info.name).withUnsafeBytes { b in a.elementsEqual(b) }
            }
            #expect(same, "tensor \(info.name) differs from llama.cpp's bytes")
        }
    }

    @Test("every key and tensor byte equals llama.cpp's (byte-level BPE f16 / q8_0 from convert_hf_to_gguf.py, q4_0 from llama-quantize; SentencePiece f16)",
          arguments: [
            ("llama_bpe", QuantizationPreset.Name.f16, "reference-f16.gguf"), ("llama_bpe", .q8_0, "reference-q8_0.gguf"),
            ("llama_bpe", .q4_0, "reference-q4_0.gguf"), ("llama_spm", .f16, "reference-f16.gguf"),
          ])
    func matchesLlamaCpp(fixture: String, preset: QuantizationPreset.Name, reference: String) throws {
        let folder = Fixtures.path("gguf_export/\(fixture)")
        let (path, _) = try Self.export(folder, preset)
        try Self.expectSameFile(path, folder + "/" + reference)
    }

    @Test("the written GGUF runs in the engine with the source's greedy tokens; a GGUF source exports back unchanged")
    func runsAndRoundTrips() throws {
        let folder = Fixtures.path("gguf_export/llama_bpe")
        let (path, _) = try Self.export(folder, .f16)
        let prompt: [Int32] = [1, 77, 300, 12, 999]
        var source = try GreedyGenerator(model: try LanguageModel.load(try Checkpoint.open(folder)), threads: 1)
        var exported = try GreedyGenerator(model: try LanguageModel.load(try Checkpoint.open(path)), threads: 1)
        let expected = try source.generate(prompt: prompt, maxNewTokens: 16).tokens
        #expect(try exported.generate(prompt: prompt, maxNewTokens: 16).tokens == expected)

        // GGUF → GGUF keeping every tensor: names, rows (already in GGUF order), metadata and
        // vocabulary carried through.
        let checkpoint = try Checkpoint.open(path)
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(.default), overrides: [TensorOverride(parsing: "*=keep")], fuse: false)
        let keys = checkpoint.reader.metadata.filter { $0.key.hasPrefix("tokenizer.") }
        let again = try GGUFExport.make(converter: ModelConverter(checkpoint: checkpoint, plan: plan), tokenizer: .ggufMetadata(keys))
        let second = try Fixtures.temporaryDirectory().appendingPathComponent("again.gguf").path
        try again.write(to: second, projectorPath: nil)
        try Self.expectSameFile(second, path)
    }

    @Test("Q/K rows: llama.cpp's permutation within each head, the same whatever the chunking of the bytes")
    func permutation() throws {
        let permutation = try #require(HeadRowPermutation(rows: 8, heads: 2))
        #expect((0..<4).map(permutation.sourceRow(forOutputRow:)) == [0, 2, 1, 3])
        #expect(HeadRowPermutation(rows: 6, heads: 2) == nil)

        let path = try Fixtures.temporaryDirectory().appendingPathComponent("p.gguf").path
        let writer = try GGUFWriter(path: path, metadata: [], tensors: [.init(name: "blk.0.attn_q.weight", dtype: .float32, shape: [8, 3])])
        let sink = GGUFTensorSink(writer: writer, routes: ["q": .init(name: "blk.0.attn_q.weight", permutation: permutation)])
        let decision = try JSONDecoder().decode(TensorDecision.self, from: Data("""
            {"name": "q", "source_names": ["q"], "role": "attention_q", "layer": 0, "source_dtype": "F32", "shape": [8, 3],
             "storage": "F32", "output_dtype": "F32", "reason": "", "bytes": 96}
            """.utf8))
        let rows = (0..<24).map(Float.init)
        try sink.beginTensor(decision, dtype: .float32)
        try rows.withUnsafeBytes { bytes in
            var offset = 0
            for size in [5, 30, 1, 60] {
                try sink.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)]))
                offset += size
            }
        }
        try sink.endTensor()
        try writer.finish()
        let written = try GGUFReader(path: path).tensor(named: "blk.0.attn_q.weight").floatValues()
        let order = [0, 2, 1, 3, 4, 6, 5, 7]
        #expect(written == order.flatMap { row in (0..<3).map { Float(row * 3 + $0) } })
    }

    @Test("types GGUF lacks, norms that are not F32 and missing vocabularies are refused before writing, naming the tensor")
    func refusals() throws {
        let folder = Fixtures.path("gguf_export/llama_bpe")
        func message(_ overrides: [String], tokenizerFolder: String? = nil) -> String {
            do {
                _ = try Self.export(folder, .q8_0, overrides: overrides, tokenizerFolder: tokenizerFolder)
                return "accepted"
            } catch { return "\(error)" }
        }
        let affine = message(["*.mlp.down_proj.weight=AFFINE4_G32"])
        #expect(affine.contains("tensor 'model.layers.0.mlp.down_proj.weight'") && affine.contains("no ggml type") && affine.contains("--quant q8_0"))
        #expect(message(["*norm.weight=F16"]).contains("GGUF norms and biases are F32"))
        #expect(message([], tokenizerFolder: Fixtures.path("llama/gqa_f16")).contains("llama.cpp cannot load a GGUF without one"))
    }
}
