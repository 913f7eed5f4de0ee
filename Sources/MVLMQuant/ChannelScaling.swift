import Foundation

/// Equivalence-preserving per-input-channel scaling (AWQ-style, Lin et al. 2023), as pure functions.
///
/// Matrices `W` that read `y = g ⊙ x̂` (an RMSNorm's output with weight `g`) compute the same
/// products after `W' = W · diag(s)` and `g' = g ⊘ s`: `W' (g' ⊙ x̂) = W (g ⊙ x̂)`. Scaling a channel up
/// gives its weights a finer share of each block's grid; the search picks `s = a^α` (with `a` the
/// channel's mean activation magnitude, normalized so that `max(s) · min(s) = 1`) for the `α` on a grid
/// that minimizes the importance-weighted error the quantized matrices make on the *original*
/// input: `Σ_rows Σ_c E[y_c²] (W_rc − Q(W' )_rc / s_c)²`. `α = 0` is no scaling, so the result is
/// never worse than the unscaled quantization in that error.
///
/// Not yet wired into `mvlm convert` (a graph pass over the checkpoint's norms and projections).
public enum ChannelScaling {
    /// The search's outcome.
    public struct Choice: Sendable, Equatable {
        public var alpha: Float
        public var scales: [Float]
        /// The weighted error with these scales and with none (`α = 0`).
        public var error: Double
        public var unscaledError: Double
    }

    /// `s_c = a_c^α`, normalized by `sqrt(max · min)`; channels with `a_c = 0` get the smallest
    /// nonzero magnitude first.
    public static func scales(magnitudes: [Float], alpha: Float) -> [Float] {
        let positive = magnitudes.filter { $0 > 0 && $0.isFinite }
        let floor = positive.min() ?? 1
        let raw = magnitudes.map { powf(($0 > 0 && $0.isFinite) ? $0 : floor, alpha) }
        let norm = ((raw.max() ?? 1) * (raw.min() ?? 1)).squareRoot()
        return raw.map { norm > 0 && norm.isFinite ? $0 / norm : 1 }
    }

    /// Searches `α` in `0, 1/steps, ..., 1` for the matrices (row-major, `columns` wide each) that read
    /// one input with per-channel mean squares `meanSquares`.
    /// - Throws: as ``QuantizationScheme/quantize(matrix:rows:columns:importance:search:)``.
    public static func search(
        matrices: [[Float]], columns: Int, meanSquares: [Float], scheme: QuantizationScheme, steps: Int = 20
    ) throws -> Choice {
        let magnitudes = meanSquares.map { $0.squareRoot() }
        var best: Choice?
        var unscaled = 0.0
        for step in 0...max(steps, 1) {
            let alpha = Float(step) / Float(max(steps, 1))
            let s = scales(magnitudes: magnitudes, alpha: alpha)
            var error = 0.0
            for matrix in matrices {
                let rows = matrix.count / columns
                var scaled = matrix
                for r in 0..<rows { for c in 0..<columns { scaled[r * columns + c] *= s[c] } }
                let decoded = try scheme.dequantize(
                    matrix: try scheme.quantize(matrix: scaled, rows: rows, columns: columns), rows: rows, columns: columns)
                for r in 0..<rows {
                    for c in 0..<columns {
                        let diff = Double(matrix[r * columns + c]) - Double(decoded[r * columns + c]) / Double(s[c])
                        error += Double(meanSquares[c]) * diff * diff
                    }
                }
            }
            if step == 0 { unscaled = error }
            if best == nil || error < best!.error {
                best = Choice(alpha: alpha, scales: s, error: error, unscaledError: unscaled)
            }
        }
        var choice = best!
        choice.unscaledError = unscaled
        return choice
    }

    /// `W · diag(s)` for a row-major matrix `columns` wide.
    public static func scaleColumns(_ matrix: [Float], columns: Int, by s: [Float]) -> [Float] {
        precondition(s.count == columns && matrix.count % columns == 0, "scales do not fit the matrix")
        var out = matrix
        for index in out.indices { out[index] *= s[index % columns] }
        return out
    }

    /// `g ⊘ s`: the norm weight that undoes the scaling.
    public static func foldIntoNorm(_ weight: [Float], by s: [Float]) -> [Float] {
        precondition(weight.count == s.count, "scales do not fit the norm weight")
        return zip(weight, s).map { $0 / $1 }
    }
}
