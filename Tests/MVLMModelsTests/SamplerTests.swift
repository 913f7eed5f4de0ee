import Foundation
import MVLMCore
import MVLMModels
import MVLMTestSupport
import Testing

/// The sampling filters against transformers' own logits processors on fixed logits
/// (Tests/Fixtures/gen_sampling.py), the draw against its distribution, and the options' checks.
@Suite("sampling")
struct SamplerTests {
    struct Case {
        var options: SamplingOptions
        var logits: [Float]
        var history: [Int32]
        var probabilities: [Float]
    }

    static func cases() throws -> [Case] {
        let expected = try loadExpectedJSON("sampling/expected.json")
        let records = try #require(expected["cases"] as? [[String: Any]])
        return try records.map { record in
            let o = try #require(record["options"] as? [String: Any])
            func number(_ key: String, _ fallback: Double) -> Double { (o[key] as? NSNumber)?.doubleValue ?? fallback }
            let options = SamplingOptions(
                temperature: Float(number("temperature", 1)), topK: Int(number("top_k", 0)), topP: Float(number("top_p", 1)),
                minP: Float(number("min_p", 0)), repetitionPenalty: Float(number("repetition_penalty", 1)), seed: 7)
            return Case(
                options: options, logits: try #require(jsonFloats(record["logits"])),
                history: try #require(jsonInts(record["history"])).map(Int32.init),
                probabilities: try #require(jsonFloats(record["probabilities"])))
        }
    }

    @Test("the distribution after the filters equals transformers' in every case")
    func distributions() throws {
        let cases = try Self.cases()
        #expect(cases.count >= 10)
        for (index, item) in cases.enumerated() {
            let ours = Sampler.distribution(logits: item.logits, history: item.history, options: item.options)
            #expect(ours.count == item.probabilities.count)
            for (a, b) in zip(ours, item.probabilities) {
                // Removed tokens are exactly 0 in both; kept ones agree to f32 softmax rounding.
                #expect((a == 0) == (b == 0), "case \(index): removed sets differ")
                #expect(abs(a - b) <= 2e-6 + 1e-5 * b, "case \(index): \(a) vs \(b)")
            }
        }
    }

    @Test("draws follow the distribution, never pick a removed token, and repeat for a seed")
    func draws() throws {
        let item = try Self.cases()[10]  // every filter at once
        var sampler = try Sampler(item.options)
        var counts = [Int](repeating: 0, count: item.logits.count)
        let draws = 6_000
        var first: [Int32] = []
        for i in 0..<draws {
            let id = sampler.next(logits: item.logits, history: item.history)
            counts[Int(id)] += 1
            if i < 50 { first.append(id) }
        }
        for (id, count) in counts.enumerated() {
            let p = Double(item.probabilities[id])
            if p == 0 { #expect(count == 0, "removed token \(id) was drawn") }
            // Within 5 binomial standard deviations (plus one draw).
            let sigma = (Double(draws) * p * (1 - p)).squareRoot()
            #expect(abs(Double(count) - Double(draws) * p) <= 5 * sigma + 1, "token \(id): \(count) draws for p = \(p)")
        }
        var again = try Sampler(item.options)
        let replay = (0..<50).map { _ in again.next(logits: item.logits, history: item.history) }
        #expect(replay == first)
        var other = item.options
        other.seed = 8
        var different = try Sampler(other)
        #expect((0..<50).map { _ in different.next(logits: item.logits, history: item.history) } != first)
    }

    @Test("greedy takes the first largest logit, after the repetition penalty")
    func greedy() throws {
        var sampler = try Sampler(.greedy)
        #expect(sampler.next(logits: [1, 3, 3, -1], history: [Int32]()) == 1)
        var penalized = try Sampler(SamplingOptions(repetitionPenalty: 2))
        #expect(penalized.next(logits: [1, 3, 2.5, -1], history: [Int32(1)]) == 2)
    }

    @Test("options out of range are refused, naming the option and its range")
    func validation() throws {
        for (options, word) in [
            (SamplingOptions(temperature: -1), "temperature"), (SamplingOptions(temperature: .nan), "temperature"),
            (SamplingOptions(topK: -2), "top-k"), (SamplingOptions(topP: 0), "top-p"), (SamplingOptions(topP: 1.5), "top-p"),
            (SamplingOptions(minP: -0.1), "min-p"), (SamplingOptions(repetitionPenalty: 0), "repetition penalty"),
        ] {
            #expect { _ = try Sampler(options) } throws: { "\($0)".contains(word) && "\($0)".contains("must be") }
        }
    }

    @Test("generation_config.json: do_sample decides, transformers' defaults fill the rest")
    func generationConfig() throws {
        let greedy = try SamplingOptions(generationConfig: ["do_sample": .bool(false), "temperature": .float(0.3)])
        #expect(!greedy.isSampling)
        let sampled = try SamplingOptions(generationConfig: ["do_sample": .bool(true), "top_p": .float(0.9)])
        #expect(sampled.isSampling && sampled.temperature == 1 && sampled.topK == 50 && sampled.topP == Float(0.9))
        #expect(throws: MVLMError.self) { try SamplingOptions(generationConfig: ["do_sample": .bool(true), "top_p": .string("x")]) }
        #expect(throws: MVLMError.self) { try SamplingOptions(generationConfig: ["do_sample": .bool(true), "top_p": .float(2)]) }
    }
}
