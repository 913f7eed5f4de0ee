/// How the quantized model's next-token distribution at one position differs from the float one.
///
/// With `p = softmax(float logits)` and `q = softmax(quantized logits)`, computed in `Double`
/// through log-sum-exp:
/// - `kld` = KL(p ‖ q) = Σ p·(log p − log q), in nats (what `llama-perplexity --kl-divergence`
///   reports);
/// - `sameTop` = both argmaxes are the same token (the first index on ties, as `torch.argmax`);
/// - `floatNLL`/`quantizedNLL` = −log p(target), −log q(target) for the token that follows;
/// - `cosine` = cosine similarity of the two logit vectors.
public struct PositionComparison: Sendable, Equatable {
    public var kld: Double
    public var sameTop: Bool
    public var floatNLL: Double
    public var quantizedNLL: Double
    public var cosine: Double

    /// Compares two logit rows of equal length; `target` is the id of the token that follows.
    /// - Precondition: the rows have the same non-zero length and `target` lies inside it.
    public init(float: UnsafeBufferPointer<Float>, quantized: UnsafeBufferPointer<Float>, target: Int) {
        precondition(float.count == quantized.count && float.count > 0 && target >= 0 && target < float.count)
        let (pMax, pTop) = Self.maximum(float)
        let (qMax, qTop) = Self.maximum(quantized)
        var pSum = 0.0, qSum = 0.0
        for i in 0..<float.count {
            pSum += _exp(Double(float[i]) - pMax)
            qSum += _exp(Double(quantized[i]) - qMax)
        }
        let pLog = pMax + _log(pSum), qLog = qMax + _log(qSum)  // log-sum-exp of each row
        var kld = 0.0, dot = 0.0, pNorm = 0.0, qNorm = 0.0
        for i in 0..<float.count {
            let lp = Double(float[i]) - pLog, lq = Double(quantized[i]) - qLog
            let p = _exp(lp)
            if p > 0 { kld += p * (lp - lq) }
            dot += Double(float[i]) * Double(quantized[i])
            pNorm += Double(float[i]) * Double(float[i])
            qNorm += Double(quantized[i]) * Double(quantized[i])
        }
        self.kld = max(kld, 0)  // rounding can leave -1e-17 for identical rows
        self.sameTop = pTop == qTop
        self.floatNLL = pLog - Double(float[target])
        self.quantizedNLL = qLog - Double(quantized[target])
        let norms = (pNorm * qNorm).squareRoot()
        self.cosine = norms > 0 ? dot / norms : (pNorm == qNorm ? 1 : 0)
    }

    /// The largest value (as Double) and its first index; NaN never wins.
    static func maximum(_ row: UnsafeBufferPointer<Float>) -> (Double, Int) {
        var best = 0
        var value = -Float.infinity
        for i in 0..<row.count where row[i] > value {
            value = row[i]
            best = i
        }
        return (Double(value), best)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
#endif
