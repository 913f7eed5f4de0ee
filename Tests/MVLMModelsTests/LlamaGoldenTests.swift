import Foundation
import MVLMCore
import MVLMModels
import MVLMRuntime
import MVLMSafetensors
import MVLMTestSupport
import Testing
import MVLMNumPy
import MVLMModelLoading

/// Golden tests against Hugging Face transformers `LlamaForCausalLM`: fixtures and reference
/// logits/tokens come from `Tests/Fixtures/gen_llama.py`.
@Suite struct LlamaGoldenTests {
    struct Reference: Decodable {
        var prompt: [Int32]
        var generated: [Int32]
        var logits_shape: [Int]
        var max_abs_logit: Float
        var min_greedy_gap: Float
    }

    static let cases = [
        "mha_f32", "gqa_tied_f32", "gqa_f16", "gqa_tied_bf16", "llama3_rope_bias_f32", "linear_rope_f32",
    ]

    static func load(_ name: String) throws -> (LanguageModel, Reference, [Int], [Float]) {
        let folder = Fixtures.path("llama/\(name)")
        let config = try ConfigJSON.load(folder + "/config.json")
        let reader = try SafetensorsReader(path: folder + "/model.safetensors")
        let model = try LanguageModel.load(config: config, reader: reader)
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json")))
        let (shape, logits) = try NumPyFile.readFloat32(path: folder + "/logits.npy")
        return (model, reference, shape, logits)
    }

    @Test(arguments: cases)
    func logitsAndGreedyTokensMatchTransformers(name: String) throws {
        let (model, reference, shape, expected) = try Self.load(name)
        #expect(shape == reference.logits_shape)
        #expect(reference.prompt.count >= 64)
        var generator = try GreedyGenerator(model: model, threads: 2)
        let result = try generator.generate(prompt: reference.prompt, maxNewTokens: 32, keepPromptLogits: true)
        let logits = try #require(result.promptLogits)
        #expect(logits.shape == shape)
        let worst = try #require(maxAbsoluteDifference(logits.values, expected))
        let maximum = expected.reduce(0) { max($0, abs($1)) }
        #expect(worst <= 1e-4 * maximum, "max |diff| \(worst), max |logit| \(maximum)")
        #expect(result.tokens == reference.generated)
    }

    @Test func oneThreadGivesTheSameTokens() throws {
        let (model, reference, _, _) = try Self.load("gqa_tied_f32")
        var generator = try GreedyGenerator(model: model, threads: 1)
        let result = try generator.generate(prompt: reference.prompt, maxNewTokens: 32)
        #expect(result.tokens == reference.generated)
        #expect(result.promptLogits == nil)
    }

    @Test func tiedCheckpointHasNoLmHead() throws {
        let (model, _, _, _) = try Self.load("gqa_tied_bf16")
        #expect(model.weights["lm_head.weight"] == nil)
        #expect(model.weights["model.embed_tokens.weight"]?.dtype == .bfloat16)
        #expect(model.unusedTensors.isEmpty)
        // Weights are views into the mapped file, not copies.
        #expect(model.weights.values.allSatisfy { $0.storage.isBorrowed })
    }

    @Test func graphDumpListsEveryOp() throws {
        let (model, _, _, _) = try Self.load("llama3_rope_bias_f32")
        let dump = model.graph.description
        #expect(dump.contains("= embedding(%"))
        #expect(dump.contains("rope(%"))
        #expect(dump.contains("scaling: llama3(factor: 8.0"))
        #expect(dump.contains("attention(%"))
        #expect(dump.contains(": f32[T, 64]  # layers.1.residual_mlp"))
        #expect(dump.contains("output \"logits\" = %"))
        #expect(dump.contains("output \"layers.1\" = %"))
        #expect(dump.split(separator: "\n").count == model.graph.nodes.count + model.graph.outputs.count)
        #expect(model.graph.outputs.count == 3 + 2)  // hidden, logits, last_logits, one per block
    }
}
