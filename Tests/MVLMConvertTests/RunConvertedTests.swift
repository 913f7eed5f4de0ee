import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMTestSupport
import Testing

/// A converted .mvlm file runs in the engine from its stored bytes, and stays close to
/// transformers' logits (Tests/Fixtures/llama, from gen_llama.py) within each preset's error.
@Suite("running converted .mvlm files")
struct RunConvertedTests {
    struct Reference: Decodable {
        var prompt: [Int32]
        var generated: [Int32]
    }

    static func convert(_ fixture: String, _ preset: QuantizationPreset.Name) throws -> String {
        let checkpoint = try Checkpoint.open(Fixtures.path("llama/\(fixture)"))
        let plan = try ConversionPlan.make(checkpoint: checkpoint, preset: QuantizationPreset(preset))
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("\(fixture)-\(preset.rawValue).mvlm").path
        try ModelConverter(checkpoint: checkpoint, plan: plan).convert(
            to: path, manifest: ModelManifest(architecture: "llama", config: checkpoint.config))
        return path
    }

    @Test("f16 and q8_0 files: logits near transformers', greedy tokens mostly kept",
          arguments: [(QuantizationPreset.Name.f16, Float(0.01)), (.q8_0, 0.05)])
    func converted(preset: QuantizationPreset.Name, tolerance: Float) throws {
        let fixture = "mha_f32"
        let path = try Self.convert(fixture, preset)
        let model = try LanguageModel.load(try Checkpoint.open(path))
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("llama/\(fixture)/reference.json"))))
        let (_, expected) = try NumPyFile.readFloat32(path: Fixtures.path("llama/\(fixture)/logits.npy"))
        var generator = try GreedyGenerator(model: model, threads: 2)
        let result = try generator.generate(prompt: reference.prompt, maxNewTokens: 8, keepPromptLogits: true)
        let logits = try #require(result.promptLogits).values
        let maximum = expected.reduce(0) { max($0, abs($1)) }
        let worst = try #require(maxAbsoluteDifference(logits, expected))
        #expect(worst <= tolerance * maximum, "\(preset): max |diff| \(worst), max |logit| \(maximum)")
        // Top-1 agreement over the prompt positions.
        let vocabulary = expected.count / reference.prompt.count
        var agree = 0
        for position in 0..<reference.prompt.count {
            let row = position * vocabulary..<(position + 1) * vocabulary
            let a = logits[row].indices.max { logits[$0] < logits[$1] }
            let b = expected[row].indices.max { expected[$0] < expected[$1] }
            if a == b { agree += 1 }
        }
        #expect(Double(agree) >= 0.9 * Double(reference.prompt.count), "\(preset): top-1 agreement \(agree)/\(reference.prompt.count)")
    }
}
