import MVLMCore

/// GGUF Q4_K super-blocks (see ``QuantizationScheme/q4_K``), bit-identical to llama.cpp's
/// `quantize_row_q4_K_ref` / `dequantize_row_q4_K`.
///
/// The eight sub-blocks of a super-block are independent until their scales are packed, so the
/// quantizer transposes the 256 floats into 32 `SIMD8` vectors (lane = sub-block) and runs
/// `make_qkx2_quants` on all eight lanes at once. Each lane performs exactly the C code's operations
/// in the C code's order (sums are sequential over the 32 elements of its sub-block), which keeps the
/// result bit-identical while using the vector unit.
///
/// With importance weights it follows `quantize_row_q4_K_impl` with `quant_weights` (llama.cpp's
/// imatrix path), bit-identical to ggml's `quantize_q4_K(..., quant_weights)`.
enum Q4_KKernel {
    static let elements = 256
    static let bytes = 144

    /// ggml's `get_scale_min_k4`: the 6-bit scale and min of sub-block `j` from the 12 packed bytes.
    @inline(__always)
    static func scaleAndMin(_ j: Int, _ q: UnsafeRawPointer) -> (UInt8, UInt8) {
        if j < 4 {
            return (q.load(fromByteOffset: j, as: UInt8.self) & 63, q.load(fromByteOffset: j &+ 4, as: UInt8.self) & 63)
        }
        let high = q.load(fromByteOffset: j &+ 4, as: UInt8.self)
        let d = (high & 0xF) | ((q.load(fromByteOffset: j &- 4, as: UInt8.self) &>> 6) &<< 4)
        let m = (high &>> 4) | ((q.load(fromByteOffset: j, as: UInt8.self) &>> 6) &<< 4)
        return (d, m)
    }

    static func quantizeRow(
        _ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>? = nil, into out: UnsafeMutableRawPointer
    ) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 32 * 4) { scratch in
            let base = scratch.baseAddress!
            var block = 0
            while block &* 256 < count {
                quantizeBlock(
                    x + block &* 256, importance: importance.map { $0 + block &* 256 }, into: out + block &* 144,
                    scratch: base)
                block &+= 1
            }
        }
    }

    /// One super-block. `scratch` holds 128 vectors: transposed x, weights, L, Laux.
    ///
    /// Without importance: `quantize_row_q4_K_ref` (weights `rms + |x|`, `make_qkx2_quants`, 6-bit
    /// scales by nearest). With importance: `quantize_row_q4_K_impl` with `quant_weights` (weights
    /// `qw * sqrt(2*mean(x²) + x²)`, `make_qkx3_quants`, 6-bit scales by `make_qp_quants`).
    @inline(__always)
    static func quantizeBlock(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, into out: UnsafeMutableRawPointer,
        scratch: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        let xt = scratch, weights = scratch + 32, best = scratch + 64, trial = scratch + 96
        for l in 0..<32 {
            var v = SIMD8<Float>()
            for lane in 0..<8 { v[lane] = x[lane &* 32 &+ l] }
            xt[l] = v
        }
        let scale: SIMD8<Float>, mins: SIMD8<Float>
        if let importance {
            // sigma2 = 2 * sum(x²) / 256, summed in element order as the C code does.
            var sumX2: Float = 0
            for index in 0..<256 { sumX2 += x[index] * x[index] }
            let sigma2 = 2 * sumX2 / 256
            var sumW = SIMD8<Float>()
            for l in 0..<32 {
                var w = SIMD8<Float>()
                for lane in 0..<8 {
                    let value = xt[l][lane]
                    w[lane] = importance[lane &* 32 &+ l] * (sigma2 + value * value).squareRoot()
                }
                weights[l] = w
                sumW += w
            }
            (scale, mins) = makeQuants(xt, weights: weights, best: best, trial: trial, rmin: -0.9, rdelta: 0.05, steps: 36)
            var ls = [UInt8](repeating: 0, count: 8), lm = [UInt8](repeating: 0, count: 8)
            let dBlock = makeQPQuants(scale, levels: &ls, weights: sumW)
            let mBlock = makeQPQuants(mins, levels: &lm, weights: sumW)
            packScales(ls, lm, into: out + 4)
            out.storeFloat16(dBlock, at: 0)
            out.storeFloat16(mBlock, at: 2)
        } else {
            var sumX2 = SIMD8<Float>()
            for l in 0..<32 { sumX2 += xt[l] * xt[l] }
            var average = SIMD8<Float>()
            for j in 0..<8 { average[j] = (sumX2[j] / 32).squareRoot() }  // scalar sqrtss, = sqrtf
            for l in 0..<32 { weights[l] = average + SIMDMath.absolute(xt[l]) }
            (scale, mins) = makeQuants(xt, weights: weights, best: best, trial: trial, rmin: -1, rdelta: 0.1, steps: 20)
            // Super-block scales, 6-bit sub-block scales and mins by nearest.
            var maxScale: Float = 0, maxMin: Float = 0
            for j in 0..<8 {
                if scale[j] > maxScale { maxScale = scale[j] }
                if mins[j] > maxMin { maxMin = mins[j] }
            }
            let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0
            let inverseMin: Float = maxMin > 0 ? 63 / maxMin : 0
            var ls = [UInt8](repeating: 0, count: 8), lm = [UInt8](repeating: 0, count: 8)
            for j in 0..<8 {
                ls[j] = Swift.min(63, UInt8(truncatingIfNeeded: SIMDMath.nearestInt(inverseScale * scale[j])))
                lm[j] = Swift.min(63, UInt8(truncatingIfNeeded: SIMDMath.nearestInt(inverseMin * mins[j])))
            }
            packScales(ls, lm, into: out + 4)
            out.storeFloat16(maxScale / 63, at: 0)
            out.storeFloat16(maxMin / 63, at: 2)
        }

        // Final levels against the stored scales.
        let d = UnsafeRawPointer(out).float16(at: 0), dmin = UnsafeRawPointer(out).float16(at: 2)
        var dv = SIMD8<Float>(), mv = SIMD8<Float>()
        for j in 0..<8 {
            let (sc, m) = scaleAndMin(j, out + 4)
            dv[j] = d * Float(sc)
            mv[j] = dmin * Float(m)
        }
        let requantize = SIMDMath.notEqual(dv, SIMD8())
        for l in 0..<32 {
            let q = SIMDMath.floats(clampLevels(SIMDMath.nearestInt((xt[l] + mv) / dv), 15))
            best[l] = SIMDMath.select(requantize, q, best[l])
        }
        // Pack: bytes 16 + 32p + l hold sub-block 2p (low nibble) and 2p+1 (high nibble).
        for l in 0..<32 {
            let q = SIMDMath.integers(best[l])
            for pair in 0..<4 {
                let byte = UInt8(truncatingIfNeeded: q[pair &* 2] | (q[pair &* 2 &+ 1] &<< 4))
                out.storeBytes(of: byte, toByteOffset: 16 &+ pair &* 32 &+ l, as: UInt8.self)
            }
        }
    }

    /// The 12-byte packing of eight 6-bit scales and mins (the C code's bit operations, also for
    /// out-of-range values).
    @inline(__always)
    static func packScales(_ ls: [UInt8], _ lm: [UInt8], into s: UnsafeMutableRawPointer) {
        var packed = (UInt64(0), UInt32(0))
        withUnsafeMutableBytes(of: &packed) { s in
            for j in 0..<8 {
                if j < 4 {
                    s[j] = ls[j]
                    s[j &+ 4] = lm[j]
                } else {
                    s[j &+ 4] = (ls[j] & 0xF) | ((lm[j] & 0xF) &<< 4)
                    s[j &- 4] |= (ls[j] &>> 4) &<< 6
                    s[j] |= (lm[j] &>> 4) &<< 6
                }
            }
        }
        s.storeBytes(of: packed.0, toByteOffset: 0, as: UInt64.self)
        s.storeBytes(of: packed.1, toByteOffset: 8, as: UInt32.self)
    }

    /// `make_qkx2_quants` / `make_qkx3_quants(32, 15, x, weights, L, &the_min, Laux, rmin, rdelta,
    /// nstep, false)` on eight lanes. Levels go to `best`; returns (scale, the_min).
    @inline(__always)
    static func makeQuants(
        _ xt: UnsafePointer<SIMD8<Float>>, weights: UnsafePointer<SIMD8<Float>>, best: UnsafeMutablePointer<SIMD8<Float>>,
        trial: UnsafeMutablePointer<SIMD8<Float>>, rmin: Float, rdelta: Float, steps: Int
    ) -> (SIMD8<Float>, SIMD8<Float>) {
        var min = xt[0], max = xt[0]
        var sumW = weights[0]
        var sumX = sumW * xt[0]
        for l in 1..<32 {
            let v = xt[l]
            min = SIMDMath.minimum(min, v)
            max = SIMDMath.maximum(max, v)
            sumW += weights[l]
            sumX += weights[l] * v
        }
        min = SIMDMath.select(SIMDMath.greaterThan(min, SIMD8()), SIMD8(), min)
        // qkx2 tests max == min, qkx3 max <= min: the same, as max >= min here.
        let flat = SIMDMath.equal(max, min)
        // Note: like the C code, later steps use the *updated* min (and max - min) of the best fit.
        var iscale = SIMD8<Float>(repeating: 15) / (max - min)
        var scale = 1 / iscale
        var bestError = SIMD8<Float>()
        for l in 0..<32 {
            let q = SIMDMath.floats(clampLevels(SIMDMath.nearestInt(iscale * (xt[l] - min)), 15))
            best[l] = q
            let diff = scale * q + min - xt[l]
            bestError += weights[l] * (diff * diff)
        }
        for step in 0...steps {
            iscale = SIMD8(repeating: (rmin + rdelta * Float(step)) + 15) / (max - min)
            var sumL = SIMD8<Float>(), sumL2 = SIMD8<Float>(), sumXL = SIMD8<Float>()
            for l in 0..<32 {
                let q = SIMDMath.floats(clampLevels(SIMDMath.nearestInt(iscale * (xt[l] - min)), 15))
                trial[l] = q
                let wl = weights[l] * q
                sumL += wl
                sumL2 += wl * q
                sumXL += wl * xt[l]
            }
            let determinant = sumW * sumL2 - sumL * sumL
            let positive = SIMDMath.greaterThan(determinant, SIMD8())
            if !SIMDMath.any(positive) { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / determinant
            var thisMin = (sumL2 * sumX - sumL * sumXL) / determinant
            let minPositive = SIMDMath.greaterThan(thisMin, SIMD8())
            thisMin = SIMDMath.select(minPositive, SIMD8(), thisMin)
            thisScale = SIMDMath.select(minPositive, sumXL / sumL2, thisScale)
            var error = SIMD8<Float>()
            for l in 0..<32 {
                let diff = thisScale * trial[l] + thisMin - xt[l]
                error += weights[l] * (diff * diff)
            }
            let better = positive & SIMDMath.lessThan(error, bestError)
            if !SIMDMath.any(better) { continue }
            for l in 0..<32 { best[l] = SIMDMath.select(better, trial[l], best[l]) }
            bestError = SIMDMath.select(better, error, bestError)
            scale = SIMDMath.select(better, thisScale, scale)
            min = SIMDMath.select(better, thisMin, min)
        }
        scale = SIMDMath.select(flat, SIMD8(), scale)
        for l in 0..<32 { best[l] = SIMDMath.select(flat, SIMD8(), best[l]) }
        // C `-min` (the standard library's SIMD `-` is `0 - v`, which loses the sign of zero).
        let theMin = unsafeBitCast(unsafeBitCast(min, to: SIMD8<UInt32>.self) ^ 0x8000_0000, to: SIMD8<Float>.self)
        return (scale, theMin)
    }

    /// ggml's `make_qp_quants(8, 63, x, L, quant_weights)`: 6-bit levels for the eight sub-block
    /// scales (or mins) with a weighted search and coordinate refinement. Scalar, in C order.
    static func makeQPQuants(_ x: SIMD8<Float>, levels: inout [UInt8], weights w: SIMD8<Float>) -> Float {
        let nmax: Float = 63
        var max: Float = 0
        for i in 0..<8 { max = x[i] > max ? x[i] : max }
        if max < 1e-15 {
            for i in 0..<8 { levels[i] = 0 }
            return 0
        }
        var iscale = nmax / max
        for i in 0..<8 { levels[i] = UInt8(truncatingIfNeeded: SIMDMath.nearestInt(iscale * x[i])) }
        let scale = 1 / iscale
        var bestMSE: Float = 0
        for i in 0..<8 {
            let diff = x[i] - scale * Float(levels[i])
            bestMSE += w[i] * diff * diff
        }
        for step in -4...4 where step != 0 {
            let iscaleStep = (0.1 * Float(step) + nmax) / max
            let scaleStep = 1 / iscaleStep
            var mse: Float = 0
            for i in 0..<8 {
                let l = Swift.min(63, SIMDMath.nearestInt(iscaleStep * x[i]))
                let diff = x[i] - scaleStep * Float(l)
                mse += w[i] * diff * diff
            }
            if mse < bestMSE {
                bestMSE = mse
                iscale = iscaleStep
            }
        }
        var sumLX: Float = 0, sumL2: Float = 0
        for i in 0..<8 {
            let l = Swift.min(63, SIMDMath.nearestInt(iscale * x[i]))
            levels[i] = UInt8(truncatingIfNeeded: l)
            sumLX += w[i] * x[i] * Float(l)
            sumL2 += w[i] * Float(l) * Float(l)
        }
        for _ in 0..<5 {
            var changed = 0
            for i in 0..<8 {
                let current = Float(levels[i])
                var slx = sumLX - w[i] * x[i] * current
                var sl2 = sumL2 - w[i] * current * current
                if slx > 0 && sl2 > 0 {
                    let newLevel = Swift.min(63, SIMDMath.nearestInt(x[i] * sl2 / slx))
                    if newLevel != Int32(levels[i]) {
                        slx += w[i] * x[i] * Float(newLevel)
                        sl2 += w[i] * Float(newLevel) * Float(newLevel)
                        if slx * slx * sumL2 > sumLX * sumLX * sl2 {
                            levels[i] = UInt8(truncatingIfNeeded: newLevel)
                            sumLX = slx
                            sumL2 = sl2
                            changed &+= 1
                        }
                    }
                }
            }
            if changed == 0 { break }
        }
        return sumL2 > 0 ? sumLX / sumL2 : 0
    }

    @inline(__always)
    static func clampLevels(_ v: SIMD8<Int32>, _ high: Int32) -> SIMD8<Int32> {
        SIMDMath.clamp(v, 0, high)
    }

    static func dequantizeRow(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 256 < count {
            let b = src + block &* 144
            let d = b.float16(at: 0), dmin = b.float16(at: 2)
            let out = UnsafeMutableRawPointer(y + block &* 256)
            for pair in 0..<4 {
                let (sc1, m1) = scaleAndMin(pair &* 2, b + 4)
                let (sc2, m2) = scaleAndMin(pair &* 2 &+ 1, b + 4)
                let d1 = SIMD8(repeating: d * Float(sc1)), min1 = SIMD8(repeating: dmin * Float(m1))
                let d2 = SIMD8(repeating: d * Float(sc2)), min2 = SIMD8(repeating: dmin * Float(m2))
                for part in 0..<4 {
                    let packed = SIMD8<Int32>(truncatingIfNeeded: b.loadUnaligned(
                        fromByteOffset: 16 &+ pair &* 32 &+ part &* 8, as: SIMD8<UInt8>.self))
                    out.storeFloats8(d1 * SIMDMath.floats(packed & 0xF) - min1, at: (pair &* 64 &+ part &* 8) &* 4)
                    out.storeFloats8(d2 * SIMDMath.floats(packed &>> 4) - min2, at: (pair &* 64 &+ 32 &+ part &* 8) &* 4)
                }
            }
            block &+= 1
        }
    }
}
