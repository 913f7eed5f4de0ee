import MVLMCore

/// Error-minimizing choice of scale (and min) for the schemes that allow one.
///
/// Every candidate is a pair of *stored* parameters (after rounding to f16 where the format stores
/// f16) and is scored by the weighted squared error of the levels a plain nearest rounding gives for
/// those parameters, exactly as the dequantizer will reconstruct them. Candidates come from a grid
/// of inverse scales around the round-to-nearest one (as in llama.cpp's `make_qx_quants` and
/// `make_qkx2_quants`), each refined by a weighted least-squares fit of the scale (and min) to the
/// levels it produced; with importance weights the unweighted fit is tried too, so the weighted
/// result is never worse (in weighted error) than the unweighted one. The caller then keeps the
/// round-to-nearest encoding unless the search result is strictly better in Double-precision error.
enum ScaleSearch {
    // MARK: Symmetric: value = s * q, q in low...high

    @inline(__always)
    static func levels(_ v: SIMD8<Float>, _ low: Float, _ high: Float) -> SIMD8<Float> {
        SIMDMath.roundedEven(SIMDMath.clamp(v, low, high))
    }

    /// Σ w (s*q - x)² with q = nearest level for `scale` (0 everywhere when `scale` is 0).
    static func symmetricError(_ row: RowView, scale: Float, low: Float, high: Float) -> Float {
        let inverse = scale != 0 ? 1 / scale : 0
        let s = SIMD8(repeating: scale), i = SIMD8(repeating: inverse)
        var error = SIMD8<Float>()
        var index = 0
        while index < row.count {
            let x = row.x(index)
            let diff = s * levels(x * i, low, high) - x
            error += row.w(index) * diff * diff
            index &+= 8
        }
        return error.sum()
    }

    /// Least-squares scale for the levels `iscale` gives: Σ w x q / Σ w q².
    static func symmetricFit(_ row: RowView, iscale: Float, low: Float, high: Float) -> Float? {
        let i = SIMD8(repeating: iscale)
        var sumXQ = SIMD8<Float>(), sumQ2 = SIMD8<Float>()
        var index = 0
        while index < row.count {
            let x = row.x(index)
            let q = levels(x * i, low, high)
            let wq = row.w(index) * q
            sumXQ += wq * x
            sumQ2 += wq * q
            index &+= 8
        }
        let denominator = sumQ2.sum()
        guard denominator > 0 else { return nil }
        let scale = sumXQ.sum() / denominator
        return scale.isFinite ? scale : nil
    }

    /// The best stored scale among the candidates derived from `inverseScale(0..<candidates)`.
    /// - Parameter halfScale: the format stores the scale as f16 (else f32).
    @inline(__always)
    static func searchSymmetric(
        _ row: RowView, candidates: Int, low: Float, high: Float, halfScale: Bool, inverseScale: (Int) -> Float
    ) -> Float? {
        var bestScale: Float?
        var bestError = Float.infinity
        let fitCount = row.importance == nil ? 1 : 2
        for candidate in 0..<candidates {
            let iscale = inverseScale(candidate)
            guard iscale.isFinite, iscale != 0 else { continue }
            for fit in 0..<fitCount {
                let fitRow = fit == 0 ? row : row.unweighted
                guard let fitted = symmetricFit(fitRow, iscale: iscale, low: low, high: high) else { continue }
                let stored = halfScale ? Storage.half(fitted) : fitted
                guard stored != 0, (1 / stored).isFinite else { continue }
                let error = symmetricError(row, scale: stored, low: low, high: high)
                if error < bestError {
                    bestError = error
                    bestScale = stored
                }
            }
        }
        return bestScale
    }

    // MARK: Affine: value = s * q + m, q in 0...high

    /// Σ w (s*q + m - x)² with q = nearest level for (s, m).
    static func affineError(_ row: RowView, scale: Float, min: Float, high: Float) -> Float {
        let inverse = scale != 0 ? 1 / scale : 0
        let s = SIMD8(repeating: scale), m = SIMD8(repeating: min), i = SIMD8(repeating: inverse)
        var error = SIMD8<Float>()
        var index = 0
        while index < row.count {
            let x = row.x(index)
            let diff = s * levels((x - m) * i, 0, high) + m - x
            error += row.w(index) * diff * diff
            index &+= 8
        }
        return error.sum()
    }

    /// Weighted least-squares (scale, min) for the levels `iscale` gives from `rangeMin`.
    static func affineFit(_ row: RowView, iscale: Float, rangeMin: Float, high: Float) -> (Float, Float)? {
        let i = SIMD8(repeating: iscale), r = SIMD8(repeating: rangeMin)
        var sw = SIMD8<Float>(), sx = SIMD8<Float>(), sq = SIMD8<Float>(), sq2 = SIMD8<Float>(), sxq = SIMD8<Float>()
        var index = 0
        while index < row.count {
            let x = row.x(index), w = row.w(index)
            let q = levels((x - r) * i, 0, high)
            let wq = w * q
            sw += w
            sx += w * x
            sq += wq
            sq2 += wq * q
            sxq += wq * x
            index &+= 8
        }
        let sumW = sw.sum(), sumX = sx.sum(), sumQ = sq.sum(), sumQ2 = sq2.sum(), sumXQ = sxq.sum()
        let determinant = sumW * sumQ2 - sumQ * sumQ
        guard determinant > 0 else { return nil }
        let scale = (sumW * sumXQ - sumX * sumQ) / determinant
        let min = (sumQ2 * sumX - sumQ * sumXQ) / determinant
        guard scale.isFinite, min.isFinite else { return nil }
        return (scale, min)
    }

    /// The best stored (scale, min) pair for a group whose values span `rangeMin...rangeMax`.
    static func searchAffine(_ row: RowView, rangeMin: Float, rangeMax: Float, high: Float) -> (Float, Float)? {
        let range = rangeMax - rangeMin
        guard range > 0, range.isFinite else { return nil }
        var best: (Float, Float)?
        var bestError = Float.infinity
        let fitCount = row.importance == nil ? 1 : 2
        for step in 0...20 {
            let iscale = (high - 1 + 0.1 * Float(step)) / range
            for fit in 0..<fitCount {
                let fitRow = fit == 0 ? row : row.unweighted
                guard let (scale, min) = affineFit(fitRow, iscale: iscale, rangeMin: rangeMin, high: high) else {
                    continue
                }
                let storedScale = Storage.half(scale), storedMin = Storage.half(min)
                guard storedScale > 0, (1 / storedScale).isFinite else { continue }
                let error = affineError(row, scale: storedScale, min: storedMin, high: high)
                if error < bestError {
                    bestError = error
                    best = (storedScale, storedMin)
                }
            }
        }
        return best
    }
}
