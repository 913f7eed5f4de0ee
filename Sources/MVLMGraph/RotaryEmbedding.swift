#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding in the Hugging Face "rotate half" layout.
///
/// For a head of size `d` and position `p`, pairs `(x[i], x[i + d/2])` for `i < d/2` are rotated by
/// the angle `p * invFreq[i]`:
///
///     y[i]       = x[i] * cos - x[i + d/2] * sin
///     y[i + d/2] = x[i + d/2] * cos + x[i] * sin
///
/// with `invFreq[i] = 1 / theta^(2i/d)` adjusted by `scaling`.
///
/// With `interleaved` the pairs are `(x[2i], x[2i + 1])` instead (GPT-J / llama.cpp's "normal"
/// layout): the layout of GGUF checkpoints, whose converter permutes the Q and K rows of each head
/// from the halves order into adjacent pairs. Attention is a dot product over the head, so running
/// those rows as stored with interleaved pairs gives exactly the halves result.
public struct RotaryEmbedding: Hashable, Sendable, CustomStringConvertible {
    /// How the frequencies are stretched for longer contexts (`rope_scaling` in config.json).
    public enum Scaling: Hashable, Sendable, CustomStringConvertible {
        /// Plain RoPE (`rope_type` `default`, or no `rope_scaling`).
        case none
        /// Position interpolation: every frequency divided by `factor`.
        case linear(factor: Double)
        /// Llama 3.1: low frequencies divided by `factor`, high ones kept, the band between
        /// interpolated smoothly (wavelength thresholds from `originalContext / lowFrequencyFactor`
        /// and `originalContext / highFrequencyFactor`).
        case llama3(
            factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double,
            originalContext: Double)

        public var description: String {
            switch self {
            case .none: "none"
            case .linear(let factor): "linear(factor: \(factor))"
            case .llama3(let factor, let low, let high, let original):
                "llama3(factor: \(factor), low: \(low), high: \(high), original: \(Int(original)))"
            }
        }
    }

    /// The size of one head (must be even).
    public var headDimension: Int
    /// The base of the frequencies (`rope_theta`).
    public var theta: Double
    public var scaling: Scaling
    /// Rotate adjacent pairs (GGUF's row order) instead of the two halves of each head.
    public var interleaved: Bool

    public init(headDimension: Int, theta: Double, scaling: Scaling = .none, interleaved: Bool = false) {
        self.headDimension = headDimension
        self.theta = theta
        self.scaling = scaling
        self.interleaved = interleaved
    }

    /// The `headDimension / 2` inverse frequencies after scaling.
    public func inverseFrequencies() -> [Float] {
        let half = headDimension / 2
        var result = [Float](repeating: 0, count: half)
        for index in 0..<half {
            // Hugging Face computes the base frequencies in float32.
            let exponent = Float(2 * index) / Float(headDimension)
            let base = Double(1 / Float(pow(Double(theta), Double(exponent))))
            result[index] = Float(scaled(base))
        }
        return result
    }

    private func scaled(_ frequency: Double) -> Double {
        switch scaling {
        case .none:
            return frequency
        case .linear(let factor):
            return frequency / factor
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = original / low
            let highWavelength = original / high
            let wavelength = 2 * Double.pi / frequency
            if wavelength < highWavelength { return frequency }
            if wavelength > lowWavelength { return frequency / factor }
            let smooth = (original / wavelength - low) / (high - low)
            return (1 - smooth) * frequency / factor + smooth * frequency
        }
    }

    public var description: String {
        "headDim: \(headDimension), theta: \(theta), scaling: \(scaling)\(interleaved ? ", interleaved" : "")"
    }
}
