import MVLMCore

/// GGUF Q6_K super-blocks (see ``QuantizationScheme/q6_K``), bit-identical to llama.cpp's
/// `quantize_row_q6_K_ref` / `dequantize_row_q6_K`.
///
/// As in ``Q4_KKernel``, sub-blocks run in SIMD lanes (two passes of eight sub-blocks of 16), each
/// lane repeating the C code's `make_qx_quants` operations in order.
///
/// With importance weights the kernel follows `quantize_row_q6_K_impl` with `quant_weights` (what
/// `llama-quantize --imatrix` runs): the same search with the importance as the weights instead of
/// x², bit-identical to ggml's `quantize_q6_K(..., quant_weights)`.
enum Q6_KKernel {
    static let elements = 256
    static let bytes = 210
    static let groupMaxEpsilon: Float = 1e-15

    static func quantizeRow(
        _ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>? = nil, into out: UnsafeMutableRawPointer
    ) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 16 * 8) { scratch in
            let base = scratch.baseAddress!
            var block = 0
            while block &* 256 < count {
                quantizeBlock(
                    x + block &* 256, importance: importance.map { $0 + block &* 256 }, into: out + block &* 210,
                    scratch: base)
                block &+= 1
            }
        }
    }

    /// `make_qx_quants(16, 32, x, L, 1, qw)` on eight sub-blocks (lanes). `xt[i]` holds element
    /// `i` of each sub-block, `wt[i]` its weight (`nil`: x², the `qw == NULL` case); levels
    /// (0...63) go to `levels`. Returns the scales.
    @inline(__always)
    static func makeQuants(_ xt: UnsafePointer<SIMD8<Float>>, weights wt: UnsafePointer<SIMD8<Float>>?,
                           levels: UnsafeMutablePointer<SIMD8<Float>>,
                           trial: UnsafeMutablePointer<SIMD8<Float>>) -> SIMD8<Float> {
        var max = SIMD8<Float>(), amax = SIMD8<Float>()
        for i in 0..<16 {
            let ax = SIMDMath.absolute(xt[i])
            let larger = SIMDMath.greaterThan(ax, amax)
            amax = SIMDMath.select(larger, ax, amax)
            max = SIMDMath.select(larger, xt[i], max)
        }
        let zero = SIMDMath.lessThan(amax, SIMD8(repeating: groupMaxEpsilon))
        var iscale = SIMD8<Float>(repeating: -32) / max
        var sumLX = SIMD8<Float>(), sumL2 = SIMD8<Float>()
        for i in 0..<16 {
            let l = SIMDMath.floats(clamp(SIMDMath.nearestInt(iscale * xt[i])))
            levels[i] = l + 32
            let w = wt?[i] ?? xt[i] * xt[i]
            sumLX += w * xt[i] * l
            sumL2 += w * l * l
        }
        var scale = SIMDMath.select(SIMDMath.equal(sumL2, SIMD8()), SIMD8(), sumLX / sumL2)
        var best = scale * sumLX
        for step in -9...9 where step != 0 {
            iscale = SIMD8(repeating: -(32 + 0.1 * Float(step))) / max
            sumLX = SIMD8()
            sumL2 = SIMD8()
            for i in 0..<16 {
                let l = SIMDMath.floats(clamp(SIMDMath.nearestInt(iscale * xt[i])))
                trial[i] = l
                let w = wt?[i] ?? xt[i] * xt[i]
                sumLX += w * xt[i] * l
                sumL2 += w * l * l
            }
            let better = SIMDMath.greaterThan(sumL2, SIMD8()) & SIMDMath.greaterThan(sumLX * sumLX, best * sumL2)
            if !SIMDMath.any(better) { continue }
            for i in 0..<16 { levels[i] = SIMDMath.select(better, trial[i] + 32, levels[i]) }
            scale = SIMDMath.select(better, sumLX / sumL2, scale)
            best = SIMDMath.select(better, scale * sumLX, best)
        }
        for i in 0..<16 { levels[i] = SIMDMath.select(zero, SIMD8(), levels[i]) }
        return SIMDMath.select(zero, SIMD8(), scale)
    }

    @inline(__always)
    static func clamp(_ v: SIMD8<Int32>) -> SIMD8<Int32> {
        SIMDMath.clamp(v, -32, 31)
    }

    @inline(__always)
    static func quantizeBlock(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, into out: UnsafeMutableRawPointer,
        scratch: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        // scratch: xt[2][16], levels[2][16], trial[16], weights[2][16]
        let xt = scratch, levels = scratch + 32, trial = scratch + 64, wt = scratch + 80
        for half in 0..<2 {
            for i in 0..<16 {
                var v = SIMD8<Float>(), w = SIMD8<Float>()
                for lane in 0..<8 {
                    let index = (half &* 8 &+ lane) &* 16 &+ i
                    v[lane] = x[index]
                    if let importance { w[lane] = importance[index] }
                }
                xt[half &* 16 &+ i] = v
                wt[half &* 16 &+ i] = w
            }
        }
        let weighted = importance != nil
        let scales0 = makeQuants(xt, weights: weighted ? wt : nil, levels: levels, trial: trial)
        let scales1 = makeQuants(xt + 16, weights: weighted ? wt + 16 : nil, levels: levels + 16, trial: trial)
        var maxScale: Float = 0, maxAbsScale: Float = 0
        for ib in 0..<16 {
            let scale = ib < 8 ? scales0[ib] : scales1[ib &- 8]
            if abs(scale) > maxAbsScale {
                maxAbsScale = abs(scale)
                maxScale = scale
            }
        }
        if maxAbsScale < groupMaxEpsilon {
            out.initializeMemory(as: UInt8.self, repeating: 0, count: 210)
            return
        }
        let iscale = -128 / maxScale
        out.storeFloat16(1 / iscale, at: 208)
        let d = UnsafeRawPointer(out).float16(at: 208)
        var dv0 = SIMD8<Float>(), dv1 = SIMD8<Float>()
        for ib in 0..<16 {
            let scale = ib < 8 ? scales0[ib] : scales1[ib &- 8]
            let s = Int8(truncatingIfNeeded: Swift.min(127, SIMDMath.nearestInt(iscale * scale)))
            out.storeBytes(of: s, toByteOffset: 192 &+ ib, as: Int8.self)
            if ib < 8 { dv0[ib] = d * Float(s) } else { dv1[ib &- 8] = d * Float(s) }
        }
        for (half, dv) in [(0, dv0), (1, dv1)] {
            let requantize = SIMDMath.notEqual(dv, SIMD8())
            for i in 0..<16 {
                let l = SIMDMath.floats(clamp(SIMDMath.nearestInt(xt[half &* 16 &+ i] / dv))) + 32
                levels[half &* 16 &+ i] = SIMDMath.select(requantize, l, levels[half &* 16 &+ i])
            }
        }
        // L[k] for k = 16*sub + i lives in levels[(sub/8)*16 + i][sub%8].
        @inline(__always) func level(_ k: Int) -> UInt8 {
            let sub = k &>> 4, i = k & 15
            return UInt8(truncatingIfNeeded: SIMDMath.integers(levels[(sub &>> 3) &* 16 &+ i])[sub & 7])
        }
        for j in stride(from: 0, to: 256, by: 128) {
            let ql = j &>> 1, qh = 128 &+ (j &>> 2)
            for l in 0..<32 {
                let l1 = level(j &+ l), l2 = level(j &+ l &+ 32), l3 = level(j &+ l &+ 64), l4 = level(j &+ l &+ 96)
                out.storeBytes(of: (l1 & 0xF) | ((l3 & 0xF) &<< 4), toByteOffset: ql &+ l, as: UInt8.self)
                out.storeBytes(of: (l2 & 0xF) | ((l4 & 0xF) &<< 4), toByteOffset: ql &+ l &+ 32, as: UInt8.self)
                let high = (l1 &>> 4) | ((l2 &>> 4) &<< 2) | ((l3 &>> 4) &<< 4) | ((l4 &>> 4) &<< 6)
                out.storeBytes(of: high, toByteOffset: qh &+ l, as: UInt8.self)
            }
        }
    }

    static func dequantizeRow(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 256 < count {
            let b = src + block &* 210
            let d = b.float16(at: 208)
            let out = y + block &* 256
            for n in 0..<2 {
                let ql = b + n &* 64, qh = b + (128 &+ n &* 32)
                let sc = b + (192 &+ n &* 8)
                let o = out + n &* 128
                for l in 0..<32 {
                    let scaleIndex = l &>> 4
                    let low0 = ql.load(fromByteOffset: l, as: UInt8.self)
                    let low1 = ql.load(fromByteOffset: l &+ 32, as: UInt8.self)
                    let high = qh.load(fromByteOffset: l, as: UInt8.self)
                    let q1 = Int32((low0 & 0xF) | ((high & 3) &<< 4)) &- 32
                    let q2 = Int32((low1 & 0xF) | (((high &>> 2) & 3) &<< 4)) &- 32
                    let q3 = Int32((low0 &>> 4) | (((high &>> 4) & 3) &<< 4)) &- 32
                    let q4 = Int32((low1 &>> 4) | (((high &>> 6) & 3) &<< 4)) &- 32
                    o[l] = d * Float(sc.load(fromByteOffset: scaleIndex, as: Int8.self)) * Float(q1)
                    o[l &+ 32] = d * Float(sc.load(fromByteOffset: scaleIndex &+ 2, as: Int8.self)) * Float(q2)
                    o[l &+ 64] = d * Float(sc.load(fromByteOffset: scaleIndex &+ 4, as: Int8.self)) * Float(q3)
                    o[l &+ 96] = d * Float(sc.load(fromByteOffset: scaleIndex &+ 6, as: Int8.self)) * Float(q4)
                }
            }
            block &+= 1
        }
    }
}
