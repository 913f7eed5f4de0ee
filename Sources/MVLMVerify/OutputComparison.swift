/// What running the float and the quantized model on the same tokens showed.
public struct OutputComparison: Sendable, Equatable {
    /// KL divergence of the quantized next-token distribution from the float one, per scored position.
    public var kld: SampleSummary
    /// Fraction of scored positions where both models rank the same token first.
    public var top1Agreement: Double
    /// Perplexity of the float model on the input (exp of the mean negative log-likelihood of
    /// each scored position's next token).
    public var floatPerplexity: Double
    /// Perplexity of the quantized model on the same positions.
    public var quantizedPerplexity: Double
    /// Mean cosine similarity of the two logit vectors over the scored positions.
    public var logitsCosine: Double
    /// The residual stream after each block, then the final norm: SNR of the quantized hidden state.
    public var layers: [SignalToNoise]
    /// Tokens in the input, positions scored, windows evaluated and the window length.
    public var tokenCount: Int
    public var scoredPositions: Int
    public var windowCount: Int
    public var context: Int

    /// `quantizedPerplexity / floatPerplexity`.
    public var perplexityRatio: Double { floatPerplexity > 0 ? quantizedPerplexity / floatPerplexity : .nan }
}

/// A signal-to-noise ratio, `10 · log10(Σ reference² / Σ (reference − candidate)²)` in dB, with its
/// two sums; `decibels` is nil when the candidate is exact (no noise).
public struct SignalToNoise: Sendable, Equatable {
    public var name: String
    public var signal: Double
    public var noise: Double

    public init(name: String, signal: Double = 0, noise: Double = 0) {
        self.name = name
        self.signal = signal
        self.noise = noise
    }

    /// The ratio in dB; nil when there is no noise (identical values).
    public var decibels: Double? {
        guard noise > 0 else { return nil }
        guard signal > 0 else { return -.infinity }
        return 10 * _log(signal / noise) / _log(10)
    }

    /// Adds `Σ r²` and `Σ (r − c)²` over a pair of equal-length buffers. Runs of 256 elements
    /// are summed in f32 SIMD lanes (relative error about 1e-6), the runs in `Double`.
    public mutating func accumulate(reference: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>) {
        precondition(reference.count == candidate.count)
        guard let r = reference.baseAddress, let c = candidate.baseAddress else { return }
        let raw = (UnsafeRawPointer(r), UnsafeRawPointer(c))
        let count = reference.count, vectorEnd = count & ~7
        var s = 0.0, n = 0.0
        var i = 0
        while i < vectorEnd {
            let end = Swift.min(i &+ 256, vectorEnd)
            var signal = SIMD8<Float>(), noise = SIMD8<Float>()
            while i < end {
                let a = raw.0.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                let d = a - raw.1.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                signal += a * a
                noise += d * d
                i &+= 8
            }
            s += Double(signal.sum())
            n += Double(noise.sum())
        }
        while i < count {
            let a = Double(r[i]), d = a - Double(c[i])
            s += a * a
            n += d * d
            i &+= 1
        }
        signal += s
        noise += n
    }
}
