#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMCore

/// Chooses each next token by `SamplingOptions`: the filters in transformers' order, then a draw
/// from a seeded generator (xoshiro256** seeded by splitmix64, the same stream on every machine).
/// Greedy options take the largest logit (the first on ties, like `torch.argmax`), after the
/// repetition penalty when one is set.
public struct Sampler: Sendable {
    public let options: SamplingOptions
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// - Throws: `MVLMError` when an option is out of range (`SamplingOptions.validate`).
    public init(_ options: SamplingOptions) throws {
        try options.validate()
        self.options = options
        var seed = options.seed
        func splitmix() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The next id after `logits` (one row over the vocabulary), given the ids of the context so
    /// far (`history`: the prompt and what was generated, for the repetition penalty).
    public mutating func next(logits: some Collection<Float>, history: some Sequence<Int32>) -> Int32 {
        var scores = Self.penalized(Array(logits), history: history, penalty: options.repetitionPenalty)
        guard options.isSampling else { return Self.argmax(scores) }
        Self.warp(&scores, options)
        return draw(scores)
    }

    /// The probabilities `next` draws from (0 for removed tokens): the repetition penalty and the
    /// warpers applied, then the softmax. For greedy options, all the mass on the argmax.
    public static func distribution(logits: [Float], history: [Int32], options: SamplingOptions) -> [Float] {
        var scores = penalized(logits, history: history, penalty: options.repetitionPenalty)
        guard options.isSampling else {
            var one = [Float](repeating: 0, count: scores.count)
            if !scores.isEmpty { one[Int(argmax(scores))] = 1 }
            return one
        }
        warp(&scores, options)
        return softmax(scores)
    }

    // MARK: - The filters

    static func penalized(_ logits: [Float], history: some Sequence<Int32>, penalty: Float) -> [Float] {
        var scores = logits
        guard penalty != 1 else { return scores }
        var seen = Set<Int32>()
        for id in history where id >= 0 && Int(id) < scores.count && seen.insert(id).inserted {
            let s = scores[Int(id)]
            scores[Int(id)] = s < 0 ? s * penalty : s / penalty
        }
        return scores
    }

    static func warp(_ scores: inout [Float], _ options: SamplingOptions) {
        let n = scores.count
        guard n > 0 else { return }
        if options.temperature != 1 {
            for i in 0..<n { scores[i] /= options.temperature }
        }
        if options.topK > 0 && options.topK < n {
            // The k-th largest value; ties with it stay (transformers removes scores < it).
            let kth = scores.sorted(by: >)[options.topK - 1]
            for i in 0..<n where scores[i] < kth { scores[i] = -.infinity }
        }
        if options.topP < 1 {
            // Ascending order, as torch.sort(descending=False) (stable for ties).
            let order = (0..<n).sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            let probabilities = softmax(order.map { scores[$0] })
            var cumulative: Float = 0
            for (rank, index) in order.enumerated() where rank < n - 1 {
                cumulative += probabilities[rank]
                if cumulative <= 1 - options.topP { scores[index] = -.infinity }
            }
        }
        if options.minP > 0 {
            let probabilities = softmax(scores)
            let top = probabilities.max() ?? 0
            let best = Int(argmax(scores))
            for i in 0..<n where probabilities[i] < options.minP * top && i != best { scores[i] = -.infinity }
        }
    }

    /// Softmax in f32 after subtracting the maximum (-inf gives 0).
    static func softmax(_ scores: [Float]) -> [Float] {
        let maximum = scores.max() ?? 0
        guard maximum > -.infinity else { return scores.map { _ in 0 } }
        let exps = scores.map { $0 == -.infinity ? 0 : expf($0 - maximum) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    /// The index of the largest value (the first on ties; NaN never wins).
    static func argmax(_ values: [Float]) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for index in values.indices where values[index] > bestValue {
            bestValue = values[index]
            best = index
        }
        return Int32(best)
    }

    // MARK: - The draw

    private mutating func nextRandom() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// One id drawn from the softmax of `scores` by inverse CDF on a uniform double in [0, 1).
    private mutating func draw(_ scores: [Float]) -> Int32 {
        let probabilities = Self.softmax(scores)
        let u = Double(nextRandom() >> 11) * 0x1.0p-53
        var cumulative = 0.0
        var last = 0
        for (index, p) in probabilities.enumerated() where p > 0 {
            cumulative += Double(p)
            last = index
            if u < cumulative { return Int32(index) }
        }
        return Int32(last)  // rounding left u above the total: the last token with mass
    }
}
