import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModelLoading
import MVLMModels
import MVLMRuntime
import MVLMTestSupport
import Testing


/// Sampling wired into generation and `mvlm run`. The filters themselves are tested against
/// transformers in SamplerTests; here the reference is a plain loop written in the test (the
/// interpreter's logits, step by step, through a `Sampler` fed the whole context).
@Suite struct SamplingGenerationTests {
    static func model() throws -> LanguageModel {
        try LanguageModel.load(try Checkpoint.open(Fixtures.path("llama/gqa_tied_f32")))
    }

    /// Prefill, then one step per token, each chosen by a fresh `Sampler` over the whole context.
    static func plainLoop(_ model: LanguageModel, prompt: [Int32], count: Int, options: SamplingOptions) throws -> [Int32] {
        var interpreter = try model.makeInterpreter(threads: 2)
        var sampler = try Sampler(options)
        var context = prompt
        var logits = try interpreter.run(["tokens": .tokens(prompt)], outputs: ["last_logits"])["last_logits"]!.values
        var tokens: [Int32] = []
        while tokens.count < count {
            let last = Array(logits.suffix(model.vocabularySize))
            let token = sampler.next(logits: last, history: context)
            tokens.append(token)
            context.append(token)
            guard tokens.count < count else { break }
            logits = try interpreter.run(["tokens": .tokens([token])], outputs: ["last_logits"])["last_logits"]!.values
        }
        return tokens
    }

    @Test(arguments: [
        SamplingOptions(temperature: 0.9, topK: 20, topP: 0.9, minP: 0.02, repetitionPenalty: 1.2, seed: 7),
        SamplingOptions(temperature: 2, seed: 123),
        SamplingOptions(repetitionPenalty: 1.5),  // greedy with a penalty
    ])
    func generationDrawsAsAPlainLoopDoes(options: SamplingOptions) throws {
        let model = try Self.model()
        var generator = try GreedyGenerator(model: model, threads: 2)
        let prompt: [Int32] = [1, 17, 42, 99, 3]
        let result = try generator.generate(prompt: prompt, maxNewTokens: 12, sampling: options)
        #expect(result.tokens == (try Self.plainLoop(model, prompt: prompt, count: 12, options: options)))
        let again = try generator.generate(prompt: prompt, maxNewTokens: 12, sampling: options)
        #expect(again.tokens == result.tokens)
    }

    @Test func greedyOptionsGiveTheArgmaxTokens() throws {
        let model = try Self.model()
        var generator = try GreedyGenerator(model: model, threads: 2)
        let prompt: [Int32] = [1, 5, 6, 7]
        let plain = try generator.generate(prompt: prompt, maxNewTokens: 8)
        // Greedy through the Sampler path (temperature 0, penalty 1) is the same argmax.
        #expect(plain.tokens == (try Self.plainLoop(model, prompt: prompt, count: 8, options: .greedy)))
        #expect(throws: MVLMError.self) { try generator.generate(prompt: prompt, maxNewTokens: 2, sampling: SamplingOptions(topP: 0)) }
    }

    @Test func stopStringsCutAndHoldBack() throws {
        let stops = try StopStrings(["</s>", "\n\n", "END"])
        #expect(stops.truncate("Paris.\n\nNext") == "Paris.")
        #expect(stops.truncate("a END b </s>") == "a ")
        #expect(stops.truncate("no stop here") == nil)
        #expect(stops.showable("Paris.\n") == "Paris.")  // "\n" may begin "\n\n"
        #expect(stops.showable("Paris </") == "Paris ")  // "</" may begin "</s>"
        #expect(stops.showable("EN") == "")
        #expect(stops.showable("Paris") == "Paris")
        #expect(StopStrings.none.showable("x\n") == "x\n")
        #expect(throws: MVLMError.self) { try StopStrings(["ok", ""]) }
    }

    static func runJSON(_ arguments: [String]) throws -> [String: Any] {
        let result = try CommandLineTool.run(["run"] + arguments + ["--json", "--threads", "2"])
        try #require(result.status == 0, "mvlm run failed: \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func runSamplesReproduciblyAsTheLibraryDoes() throws {
        let folder = Fixtures.path("llama/gqa_tied_f32")
        let flags = ["--temperature", "0.9", "--top-k", "20", "--top-p", "0.9", "--min-p", "0.02", "--repetition-penalty", "1.2", "--seed", "7"]
        let first = try Self.runJSON([folder, "--tokens", "1,17,42,99,3", "--max-new-tokens", "12"] + flags)
        let second = try Self.runJSON([folder, "--tokens", "1,17,42,99,3", "--max-new-tokens", "12"] + flags)
        let tokens = try #require(first["generated"] as? [Int])
        #expect(tokens == second["generated"] as? [Int])
        let options = SamplingOptions(temperature: 0.9, topK: 20, topP: 0.9, minP: 0.02, repetitionPenalty: 1.2, seed: 7)
        #expect(tokens == (try Self.plainLoop(try Self.model(), prompt: [1, 17, 42, 99, 3], count: 12, options: options)).map(Int.init))
        let sampling = try #require(first["sampling"] as? [String: Any])
        #expect(sampling["top_k"] as? Int == 20 && sampling["seed"] as? Int == 7)
        // Greedy stays the default, and its JSON is unchanged (no sampling key).
        let greedy = try Self.runJSON([folder, "--tokens", "1,17,42,99,3", "--max-new-tokens", "4"])
        #expect(greedy["sampling"] == nil)
    }

    @Test func runTakesTheModelsDefaultsWhenAsked() throws {
        // generation_config.json of this fixture has no do_sample: transformers decodes greedily.
        let folder = Fixtures.path("checkpoints/llama_bin_and_safetensors")
        let model = try Self.runJSON([folder + "/model.safetensors", "--tokens", "1,2,3", "--max-new-tokens", "4", "--sampling", "model"])
        let greedy = try Self.runJSON([folder + "/model.safetensors", "--tokens", "1,2,3", "--max-new-tokens", "4"])
        #expect(model["generated"] as? [Int] == greedy["generated"] as? [Int])
        let missing = try CommandLineTool.run(["run", Fixtures.path("llama/mha_f32"), "--tokens", "1,2", "--sampling", "model"])
        #expect(missing.status != 0 && missing.stderr.contains("generation_config.json"))
    }

    @Test func runRefusesFlagsThatCannotApply() throws {
        let folder = Fixtures.path("llama/mha_f32")
        for arguments in [
            [folder, "--tokens", "1,2", "--top-k", "5"],  // a filter without a draw
            [folder, "--tokens", "1,2", "--stop", "x"],  // stop strings are text
            [folder, "--tokens", "1,2", "--sampling", "creative"],
            [folder, "--tokens", "1,2", "--temperature", "-1"],
            [folder, "--tokens", "1,2", "--temperature", "1", "--top-p", "0"],
        ] {
            let result = try CommandLineTool.run(["run"] + arguments)
            #expect(result.status != 0, "accepted: \(arguments.dropFirst())")
            #expect(!result.stderr.isEmpty && !result.signaled)
        }
    }
}
