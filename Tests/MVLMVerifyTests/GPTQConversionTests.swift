import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMQuant
import MVLMTestSupport
import MVLMVerify
import Testing

@Suite("GPTQ conversion")
struct GPTQConversionTests {
    @Test("XᵀX is shared by q/k/v and gate/up, and a --gptq conversion beats round-to-nearest on its calibration input")
    func gptqConversion() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("llama/gqa_tied_f32"))
        let expected = try loadExpectedJSON("verify/imatrix_gqa_tied_f32.json")
        let prompt = try #require(jsonInts(expected["prompt"])).map(Int32.init)
        let model = try LanguageModel.load(checkpoint)
        let collector = try SecondMomentCollector.collect(model: model, tokens: prompt, context: 512, threads: 2)
        // The diagonal divided by the tokens is the importance matrix (an independent collector).
        let importance = try ImportanceCollector.collect(model: model, tokens: prompt, context: 512, threads: 1).importance
        #expect(Set(collector.inputOf.keys) == Set(importance.keys))
        #expect(collector.moments.count < collector.inputOf.count)  // shared inputs
        for (name, index) in collector.inputOf {
            let moment = collector.moments[index]
            let diagonal = (0..<moment.columns).map { Float(moment.sums[$0 * moment.columns + $0] / Double(moment.tokens)) }
            let reference = try #require(importance[name])
            #expect(maxAbsoluteDifference(diagonal, reference)! <= 1e-4 * max(reference.max() ?? 1, 1e-6), "\(name)")
        }
        let plan = try ConversionPlan.make(checkpoint: checkpoint, preset: QuantizationPreset(.q4_0))
        let folder = try Fixtures.temporaryDirectory()
        var converter = ModelConverter(checkpoint: checkpoint, plan: plan)
        let plain = folder.appendingPathComponent("plain.mvlm").path
        try converter.convert(to: plain, manifest: ModelManifest(architecture: "llama", config: checkpoint.config))
        let statistics = collector.moments.map { GPTQStatistics(hessian: $0.symmetric, columns: $0.columns, tokens: $0.tokens) }
        for (name, index) in collector.inputOf {
            converter.gptq[name] = statistics[index]
            converter.importance[name] = statistics[index].meanSquares
        }
        let gptqPath = folder.appendingPathComponent("gptq.mvlm").path
        let manifest = try converter.convert(to: gptqPath, manifest: ModelManifest(architecture: "llama", config: checkpoint.config))
        #expect(manifest.quantization?["gptq"] == .bool(true))
        func kld(_ path: String) throws -> Double {
            let runner = try VerificationRunner(
                reference: model, candidate: try LanguageModel.load(try Checkpoint.open(path)), threads: 2)
            return try runner.compare(tokens: prompt).kld.mean
        }
        let (before, after) = (try kld(plain), try kld(gptqPath))
        #expect(after < before, "KL divergence round-to-nearest \(before), GPTQ \(after)")
    }
}
