import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMModelFile
import MVLMModels
import MVLMTestSupport
import MVLMVerify
import Testing
import MVLMModelLoading

/// Calibration statistics against transformers (forward pre-hooks on every nn.Linear,
/// Tests/Fixtures/gen_imatrix.py), and their use by the converter.
@Suite("calibration (importance matrix)")
struct CalibrationTests {
    @Test("mean squared input activations of every linear layer match transformers'")
    func matchesTransformers() throws {
        let expected = try loadExpectedJSON("verify/imatrix_gqa_tied_f32.json")
        let prompt = try #require(jsonInts(expected["prompt"])).map(Int32.init)
        let reference = try #require(expected["importance"] as? [String: [String: Any]])
        let model = try LanguageModel.load(try Checkpoint.open(Fixtures.path("llama/gqa_tied_f32")))
        let collector = try ImportanceCollector.collect(model: model, tokens: prompt, context: 512, threads: 2)
        let got = collector.importance
        #expect(Set(got.keys) == Set(reference.keys))
        for (name, want) in reference {
            let values = try #require(got[name], "\(name) missing")
            let wanted = try #require(jsonFloats(want["mean_squares"]))
            #expect(collector.rowCounts[name] == want["rows"] as? Int, "\(name)")
            #expect(values.count == wanted.count, "\(name)")
            let scale = wanted.reduce(0) { max($0, $1) }
            let difference = maxAbsoluteDifference(values, wanted) ?? .infinity
            #expect(difference <= 1e-5 * scale, "\(name): differs by \(difference) (largest value \(scale))")
        }
    }

    @Test("windows: a long input is gathered window by window, each from an empty cache")
    func windowed() throws {
        let expected = try loadExpectedJSON("verify/imatrix_gqa_tied_f32.json")
        let prompt = try #require(jsonInts(expected["prompt"])).map(Int32.init)
        let model = try LanguageModel.load(try Checkpoint.open(Fixtures.path("llama/gqa_tied_f32")))
        let whole = try ImportanceCollector.collect(model: model, tokens: prompt, context: 512, threads: 1)
        var windows = 0
        let split = try ImportanceCollector.collect(model: model, tokens: prompt + prompt, context: prompt.count, threads: 1) { _, total in windows = total }
        #expect(windows == 2)
        #expect { try ImportanceCollector.collect(model: model, tokens: [1], context: 512, threads: 1) } throws: {
            "\($0)".contains("at least 2 tokens")
        }
        // Two identical windows from empty caches give the same means as one.
        for (name, values) in whole.importance {
            #expect(maxAbsoluteDifference(values, split.importance[name]!)! <= 1e-6 * (values.max() ?? 1), "\(name)")
        }
    }

    @Test("calibrated conversion records its input and lowers weighted error")
    func converterUsesImportance() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("llama/gqa_tied_f32"))
        let expected = try loadExpectedJSON("verify/imatrix_gqa_tied_f32.json")
        let prompt = try #require(jsonInts(expected["prompt"])).map(Int32.init)
        let model = try LanguageModel.load(checkpoint)
        let collector = try ImportanceCollector.collect(model: model, tokens: prompt, context: 512, threads: 2)
        let plan = try ConversionPlan.make(checkpoint: checkpoint, preset: QuantizationPreset(.q4_0))
        let folder = try Fixtures.temporaryDirectory()
        var converter = ModelConverter(checkpoint: checkpoint, plan: plan)
        let plain = folder.appendingPathComponent("plain.mvlm").path
        try converter.convert(to: plain, manifest: ModelManifest(architecture: "llama", config: checkpoint.config))
        converter.importance = collector.importance
        converter.calibration = .object(["input": .string("prompt"), "tokens": .int(Int64(prompt.count))])
        let calibrated = folder.appendingPathComponent("calibrated.mvlm").path
        let manifest = try converter.convert(to: calibrated, manifest: ModelManifest(architecture: "llama", config: checkpoint.config))
        #expect(manifest.quantization?["importance"] == .bool(true))
        #expect(manifest.quantization?["calibration"]?["tokens"]?.intValue == prompt.count)
        // On the calibration input itself the importance-weighted search must not lose to plain rounding.
        func kld(_ path: String) throws -> Double {
            let runner = try VerificationRunner(
                reference: model, candidate: try LanguageModel.load(try Checkpoint.open(path)), threads: 2)
            return try runner.compare(tokens: prompt).kld.mean
        }
        let (before, after) = (try kld(plain), try kld(calibrated))
        #expect(after < before, "KL divergence plain \(before), calibrated \(after)")
    }
}
