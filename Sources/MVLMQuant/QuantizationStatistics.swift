import Foundation

/// Error statistics between a float row and its reconstruction.
public enum QuantizationStatistics {
    /// Σ wᵢ (xᵢ - yᵢ)² / Σ wᵢ, in Double; weights default to 1. Returns 0 when all weights are 0.
    ///
    /// - Precondition: equal counts (and `weights` of the same count when given).
    public static func weightedMSE(_ original: [Float], _ reconstruction: [Float], weights: [Float]? = nil) -> Double {
        precondition(original.count == reconstruction.count, "row and reconstruction differ in length")
        precondition(weights.map { $0.count == original.count } ?? true, "weights differ in length")
        var error: Double = 0, total: Double = 0
        for index in original.indices {
            let w = Double(weights?[index] ?? 1)
            let diff = Double(original[index]) - Double(reconstruction[index])
            error += w * diff * diff
            total += w
        }
        return total > 0 ? error / total : 0
    }

    /// Σ wᵢ (xᵢ - yᵢ)² (unnormalized), in Double.
    public static func weightedSquaredError(_ original: [Float], _ reconstruction: [Float], weights: [Float]? = nil) -> Double {
        precondition(original.count == reconstruction.count, "row and reconstruction differ in length")
        var error: Double = 0
        for index in original.indices {
            let diff = Double(original[index]) - Double(reconstruction[index])
            error += Double(weights?[index] ?? 1) * diff * diff
        }
        return error
    }

    /// Signal-to-noise ratio in dB: 10 log10(Σ x² / Σ (x - y)²). `+infinity` for an exact
    /// reconstruction, `-infinity` for an all-zero signal with nonzero error.
    public static func snr(_ original: [Float], _ reconstruction: [Float]) -> Double {
        precondition(original.count == reconstruction.count, "row and reconstruction differ in length")
        var signal: Double = 0, noise: Double = 0
        for index in original.indices {
            let x = Double(original[index])
            let diff = x - Double(reconstruction[index])
            signal += x * x
            noise += diff * diff
        }
        if noise == 0 { return .infinity }
        return 10 * log10(signal / noise)
    }
}
