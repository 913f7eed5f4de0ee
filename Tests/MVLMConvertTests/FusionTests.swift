import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMTestSupport
import Testing
import MVLMNumPy
import MVLMModelLoading

/// Fusing q/k/v and gate/up keeps the float model's outputs: an F32 file with fused projections
/// gives the logits of the unfused source checkpoint, and both match transformers.
@Suite("fusion passes")
struct FusionTests {
    static func convert(_ fixture: String, fuse: Bool, preset: QuantizationPreset.Name = .f16, overrides: [String] = ["*=F32"]) throws -> (String, ConversionPlan) {
        let checkpoint = try Checkpoint.open(Fixtures.path(fixture))
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(preset), overrides: try overrides.map { try TensorOverride(parsing: $0) }, fuse: fuse)
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("f.mvlm").path
        try ModelConverter(checkpoint: checkpoint, plan: plan).convert(
            to: path, manifest: ModelManifest(architecture: "llama", config: checkpoint.config))
        return (path, plan)
    }

    static func logits(_ path: String, prompt: [Int32]) throws -> [Float] {
        var generator = try GreedyGenerator(model: try LanguageModel.load(try Checkpoint.open(path)), threads: 2)
        return try #require(try generator.generate(prompt: prompt, maxNewTokens: 0, keepPromptLogits: true).promptLogits).values
    }

    @Test("fused F32 file = unfused source, for MHA, GQA and biases", arguments: ["llama/mha_f32", "llama/gqa_tied_f32", "llama/llama3_rope_bias_f32"])
    func fusedMatchesUnfused(fixture: String) throws {
        let (path, plan) = try Self.convert(fixture, fuse: true)
        #expect(plan.decisions.contains { $0.name.hasSuffix("self_attn.qkv_proj.weight") })
        #expect(plan.decisions.contains { $0.name.hasSuffix("mlp.gate_up_proj.weight") })
        #expect(!plan.decisions.contains { $0.name.hasSuffix("q_proj.weight") || $0.name.hasSuffix("gate_proj.weight") })
        let prompt: [Int32] = [1, 5, 9, 2, 7, 30, 11, 4]
        let fused = try Self.logits(path, prompt: prompt)
        let unfused = try Self.logits(Fixtures.path(fixture), prompt: prompt)
        let maximum = unfused.reduce(0) { max($0, abs($1)) }
        #expect((maxAbsoluteDifference(fused, unfused) ?? .infinity) <= 1e-5 * maximum)
        let graph = try LanguageModel.load(try Checkpoint.open(path)).graph.description
        #expect(graph.contains("qkv_proj") && graph.contains("slice("))
    }

    @Test("parts of different types stay apart; the reason is in the pass report")
    func mixedTypesStayApart() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("llama/mha_f32"))
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(.q8_0),
            overrides: [try TensorOverride(parsing: "*layers.0.self_attn.v_proj.weight=F16")])
        #expect(plan.decisions.contains { $0.name == "model.layers.0.self_attn.v_proj.weight" })
        #expect(plan.decisions.contains { $0.name == "model.layers.1.self_attn.qkv_proj.weight" })
        #expect(plan.passes.contains { $0.contains("fuse-qkv") && $0.contains("kept apart") })
    }

    @Test("dump finds a source tensor inside a fused one, rows and all")
    func dumpFusedPart() throws {
        let (fusedPath, _) = try Self.convert("llama/gqa_tied_f32", fuse: true)
        let output = try Fixtures.temporaryDirectory().appendingPathComponent("k.npy").path
        let name = "model.layers.1.self_attn.k_proj.weight"
        let result = try CommandLineTool.run(["dump", fusedPath, "--tensor", name, "--dequantize", "-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        let (shape, values) = try NumPyFile.readFloat32(path: output)
        let original = try Checkpoint.open(Fixtures.path("llama/gqa_tied_f32")).reader.tensor(named: name)
        #expect(shape == original.shape)
        #expect(values == (try original.floatValues()))
    }
}
