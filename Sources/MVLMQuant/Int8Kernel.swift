import MVLMCore

/// Symmetric int8: ``QuantizationScheme/int8Block32`` (Q8_0 layout, f16 scale per 32) and
/// ``QuantizationScheme/int8PerChannel`` (f32 scale per row), plus the searched Q8_0 and Q4_0
/// variants, which share the symmetric search.
enum Int8Kernel {
    /// Candidate `k` (0..<17) of the inverse scales around `127 / amax`: `(127 + (k - 12)/2) / amax`.
    @inline(__always)
    static func inverseScale(_ k: Int, amax: Float) -> Float { (127 + 0.5 * Float(k &- 12)) / amax }

    /// Writes `clamp(rne(x / scale), -127, 127)` as int8 for the row (0 when the scale is 0).
    @inline(__always)
    static func writeLevels(_ row: RowView, scale: Float, into out: UnsafeMutableRawPointer) {
        let inverse: Float = scale != 0 && (1 / scale).isFinite ? 1 / scale : 0
        let i = SIMD8(repeating: inverse)
        var index = 0
        while index < row.count {
            let q = SIMDMath.integers(ScaleSearch.levels(row.x(index) * i, -127, 127))
            let bytes = SIMD8<Int8>(truncatingIfNeeded: q)
            if index &+ 8 <= row.count {
                out.storeBytes(of: bytes, toByteOffset: index, as: SIMD8<Int8>.self)
            } else {
                for lane in 0..<(row.count &- index) {
                    out.storeBytes(of: bytes[lane], toByteOffset: index &+ lane, as: Int8.self)
                }
            }
            index &+= 8
        }
    }

    static func absoluteMaximum(_ row: RowView) -> Float {
        var amax = SIMD8<Float>()
        var index = 0
        while index < row.count {
            amax = SIMDMath.maximum(amax, SIMDMath.absolute(row.x(index)))
            index &+= 8
        }
        return SIMDMath.horizontalMaximum(amax)
    }

    // MARK: Blocks of 32 (INT8_B32, searched Q8_0)

    /// Encodes one block of 32 with a given stored f16 scale.
    @inline(__always)
    static func encodeBlock32(_ row: RowView, scale: Float, into out: UnsafeMutableRawPointer) {
        out.storeFloat16(scale, at: 0)
        writeLevels(row, scale: scale, into: out + 2)
    }

    /// INT8_B32 (and the searched Q8_0 when `q8_0Baseline`).
    static func quantizeBlocks32(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, count: Int, into out: UnsafeMutableRawPointer,
        search: Bool, q8_0Baseline: Bool
    ) {
        var block = 0
        while block &* 32 < count {
            let row = RowView(values: x + block &* 32, importance: importance.map { $0 + block &* 32 }, count: 32)
            let blockOut = out + block &* 34
            let amax = absoluteMaximum(row)
            if q8_0Baseline {
                Q8_0Kernel.quantizeBlock(UnsafeRawPointer(row.values), into: blockOut)
            } else {
                encodeBlock32(row, scale: Storage.half(amax / 127), into: blockOut)
            }
            if search && amax > 0 {
                Refinement.keepBetter(
                    row: row, out: blockOut, byteCount: 34,
                    encodeCandidate: { candidate in
                        guard let scale = ScaleSearch.searchSymmetric(
                            row, candidates: 17, low: -127, high: 127, halfScale: true,
                            inverseScale: { inverseScale($0, amax: amax) })
                        else { return false }
                        encodeBlock32(row, scale: scale, into: candidate)
                        return true
                    },
                    decode: { Q8_0Kernel.dequantizeRow($0, count: 32, into: $1) })
            }
            block &+= 1
        }
    }

    // MARK: Per channel (INT8_PC)

    static func quantizePerChannel(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, count: Int, into out: UnsafeMutableRawPointer,
        search: Bool
    ) {
        let row = RowView(values: x, importance: importance, count: count)
        let amax = absoluteMaximum(row)
        let encode = { (scale: Float, target: UnsafeMutableRawPointer) in
            target.storeBytes(of: scale.bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
            writeLevels(row, scale: scale, into: target + 4)
        }
        encode(amax / 127, out)
        guard search, amax > 0 else { return }
        Refinement.keepBetter(
            row: row, out: out, byteCount: 4 &+ count,
            encodeCandidate: { candidate in
                guard let scale = ScaleSearch.searchSymmetric(
                    row, candidates: 17, low: -127, high: 127, halfScale: false,
                    inverseScale: { inverseScale($0, amax: amax) })
                else { return false }
                encode(scale, candidate)
                return true
            },
            decode: { dequantizePerChannel($0, count: count, into: $1) })
    }

    static func dequantizePerChannel(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        let scale = SIMD8(repeating: Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(as: UInt32.self))))
        let q = src + 4
        var index = 0
        while index &+ 8 <= count {
            let v = SIMD8<Int32>(truncatingIfNeeded: q.loadUnaligned(fromByteOffset: index, as: SIMD8<Int8>.self))
            UnsafeMutableRawPointer(y + index).storeFloats8(scale * SIMDMath.floats(v), at: 0)
            index &+= 8
        }
        while index < count {
            y[index] = scale[0] * Float(q.load(fromByteOffset: index, as: Int8.self))
            index &+= 1
        }
    }

    // MARK: Searched Q4_0

    /// Q4_0 with a searched scale (levels -8...7), kept only if better than the reference bytes.
    static func quantizeQ4_0Searched(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, count: Int, into out: UnsafeMutableRawPointer
    ) {
        quantizeSymmetricSearched(
            x, importance: importance, count: count, into: out, blockBytes: 18, low: -8, high: 7,
            baseline: { Q4_0Kernel.quantizeBlock($0, into: $1) },
            encode: { row, inverse, candidate in
                let i = SIMD8(repeating: inverse)
                let q0 = SIMDMath.integers(ScaleSearch.levels(row.x(0) * i, -8, 7)) &+ 8
                let q1 = SIMDMath.integers(ScaleSearch.levels(row.x(8) * i, -8, 7)) &+ 8
                let q2 = SIMDMath.integers(ScaleSearch.levels(row.x(16) * i, -8, 7)) &+ 8
                let q3 = SIMDMath.integers(ScaleSearch.levels(row.x(24) * i, -8, 7)) &+ 8
                candidate.storeBytes(of: SIMDMath.bytes(q0 | (q2 &<< 4)), toByteOffset: 2, as: SIMD8<UInt8>.self)
                candidate.storeBytes(of: SIMDMath.bytes(q1 | (q3 &<< 4)), toByteOffset: 10, as: SIMD8<UInt8>.self)
            },
            decode: { Q4_0Kernel.dequantizeRow($0, count: 32, into: $1) })
    }

    /// The search shared by the symmetric 32-weight GGUF blocks (Q4_0, Q5_0): per block, the
    /// reference encoding (`baseline`), then 42 candidate inverse scales `-(|low| + k/10)/max` and
    /// `(high + k/10)/max` (k = -10...10, `max` the element of largest magnitude), the best refitted
    /// by weighted least squares and kept only if strictly better (`Refinement.keepBetter`).
    /// `encode` stores the levels of a candidate for the given inverse scale after the f16 scale.
    static func quantizeSymmetricSearched(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, count: Int, into out: UnsafeMutableRawPointer,
        blockBytes: Int, low: Float, high: Float,
        baseline: (UnsafePointer<Float>, UnsafeMutableRawPointer) -> Void,
        encode: (RowView, Float, UnsafeMutableRawPointer) -> Void,
        decode: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
    ) {
        var block = 0
        while block &* 32 < count {
            let row = RowView(values: x + block &* 32, importance: importance.map { $0 + block &* 32 }, count: 32)
            let blockOut = out + block &* blockBytes
            baseline(row.values, blockOut)
            var signedMax: Float = 0
            for index in 0..<32 where abs(row.values[index]) > abs(signedMax) { signedMax = row.values[index] }
            if signedMax != 0 {
                Refinement.keepBetter(
                    row: row, out: blockOut, byteCount: blockBytes,
                    encodeCandidate: { candidate in
                        guard let scale = ScaleSearch.searchSymmetric(
                            row, candidates: 42, low: low, high: high, halfScale: true,
                            inverseScale: { c in
                                let step: Float = 0.1 * Float((c &>> 1) &- 10)
                                return c & 1 == 0 ? (low - step) / signedMax : (high + step) / signedMax
                            })
                        else { return false }
                        candidate.storeFloat16(scale, at: 0)
                        encode(row, 1 / scale, candidate)
                        return true
                    },
                    decode: decode)
            }
            block &+= 1
        }
    }
}

extension Int8Kernel {
    /// Q5_0 with the error-minimizing scale search (levels -16...15, 42 candidate scales around
    /// ±max/16 and ∓max/15, weighted by `importance` when given); each block keeps the better of the
    /// search and gguf-py's round-to-nearest in weighted squared error, so it is never worse.
    static func quantizeQ5_0Searched(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, count: Int, into out: UnsafeMutableRawPointer
    ) {
        quantizeSymmetricSearched(
            x, importance: importance, count: count, into: out, blockBytes: 22, low: -16, high: 15,
            baseline: { Q5_0Kernel.quantizeBlock($0, into: $1) },
            encode: { row, inverse, candidate in
                let i = SIMD8(repeating: inverse)
                var q = [Int32](repeating: 0, count: 32)
                for part in 0..<4 {
                    let levels = SIMDMath.integers(ScaleSearch.levels(row.x(part &* 8) * i, -16, 15)) &+ 16
                    for lane in 0..<8 { q[part &* 8 &+ lane] = levels[lane] }
                }
                var high: UInt32 = 0
                for j in 0..<32 where q[j] & 0x10 != 0 { high |= 1 << UInt32(j) }
                candidate.storeBytes(of: high.littleEndian, toByteOffset: 2, as: UInt32.self)
                for j in 0..<16 {
                    candidate.storeBytes(of: UInt8(q[j] & 0xF) | UInt8(q[j &+ 16] & 0xF) &<< 4, toByteOffset: 6 &+ j, as: UInt8.self)
                }
            },
            decode: { BlockDequantizer.dequantizeQ5_0($0, count: 32, into: $1) })
    }
}
