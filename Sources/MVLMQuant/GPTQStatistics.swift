import Foundation

/// One linear layer input's second moment `H = Σ xᵀx` over the calibration tokens, as GPTQ needs it,
/// with its inverse factor computed once on first use (q/k/v and gate/up share one instance: they
/// read the same input).
///
/// Memory: `columns²` Doubles for `H` (8 · 576² = 2.6 MB for SmolLM2's hidden size, 8 · 11008² =
/// 970 MB for LLaMA-7B's `down_proj`) until ``factor(damping:)`` replaces it by the `columns²`
/// Floats of the factor; ``release()`` drops both.
public final class GPTQStatistics: @unchecked Sendable {
    public let columns: Int
    /// Calibration rows (tokens) accumulated.
    public let tokens: Int
    private let lock = NSLock()
    private var hessian: [Double]
    private var cached: [Float]?
    /// `diag(H) / tokens`: the mean squared activation of each column (the importance weights the
    /// scale search uses).
    public let meanSquares: [Float]

    /// - Parameter hessian: row-major `[columns, columns]`, symmetric.
    public init(hessian: [Double], columns: Int, tokens: Int) {
        precondition(hessian.count == columns * columns, "second moment of \(hessian.count) entries for \(columns) columns")
        self.columns = columns
        self.tokens = tokens
        self.hessian = hessian
        let n = Double(max(tokens, 1))
        meanSquares = (0..<columns).map { Float(max(hessian[$0 * columns + $0], 0) / n) }
    }

    /// ``GPTQ/inverseFactor(hessian:columns:damping:)`` of this input, computed on the first call
    /// (the second moment is dropped then).
    public func factor(damping: Double = 0.01) throws -> [Float] {
        try lock.withLock {
            if let cached { return cached }
            let factor = try GPTQ.inverseFactor(hessian: hessian, columns: columns, damping: damping)
            cached = factor
            hessian = []
            return factor
        }
    }

    /// Drops the second moment and the factor (after the last layer that reads this input).
    public func release() {
        lock.withLock {
            hessian = []
            cached = nil
        }
    }
}
