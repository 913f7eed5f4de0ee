import MVLMCore

/// Affine int4 groups (``QuantizationScheme/affineInt4(groupSize:)``), also used for the searched
/// Q4_1 (same layout with groups of 32).
enum AffineInt4Kernel {
    /// Writes one group: f16 scale, f16 min, nibbles (byte j: q[j] low, q[j + g/2] high), with
    /// `q = clamp(rne((x - min) / scale), 0, 15)` for the given *stored* scale and min.
    @inline(__always)
    static func encodeGroup(_ row: RowView, scale: Float, min: Float, into out: UnsafeMutableRawPointer) {
        out.storeFloat16(scale, at: 0)
        out.storeFloat16(min, at: 2)
        let inverse: Float = scale != 0 && (1 / scale).isFinite ? 1 / scale : 0
        let i = SIMD8(repeating: inverse), m = SIMD8(repeating: min)
        let half = row.count &>> 1
        var index = 0
        while index < half {
            let low = SIMDMath.integers(ScaleSearch.levels((row.x(index) - m) * i, 0, 15))
            let high = SIMDMath.integers(ScaleSearch.levels((row.x(half &+ index) - m) * i, 0, 15))
            out.storeBytes(of: SIMDMath.bytes(low | (high &<< 4)), toByteOffset: 4 &+ index, as: SIMD8<UInt8>.self)
            index &+= 8
        }
    }

    static func range(_ row: RowView) -> (Float, Float) {
        var low = row.x(0), high = low
        var index = 8
        while index < row.count {
            let v = row.x(index)
            low = SIMDMath.minimum(low, v)
            high = SIMDMath.maximum(high, v)
            index &+= 8
        }
        return (SIMDMath.horizontalMinimum(low), SIMDMath.horizontalMaximum(high))
    }

    /// Quantizes `count` floats in groups of `groupSize`; `q4_1Baseline` makes the searched Q4_1
    /// (baseline = gguf-python's Q4_1 bytes instead of this scheme's round-to-nearest).
    static func quantizeRow(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, count: Int, groupSize: Int,
        into out: UnsafeMutableRawPointer, search: Bool, q4_1Baseline: Bool = false
    ) {
        let groupBytes = 4 &+ groupSize &>> 1
        var group = 0
        while group &* groupSize < count {
            let offset = group &* groupSize
            let row = RowView(values: x + offset, importance: importance.map { $0 + offset }, count: groupSize)
            let groupOut = out + group &* groupBytes
            let (low, high) = range(row)
            if q4_1Baseline {
                Q4_1Kernel.quantizeBlock(UnsafeRawPointer(row.values), into: groupOut)
            } else {
                encodeGroup(row, scale: Storage.half((high - low) / 15), min: Storage.half(low), into: groupOut)
            }
            if search && high > low {
                Refinement.keepBetter(
                    row: row, out: groupOut, byteCount: groupBytes,
                    encodeCandidate: { candidate in
                        guard let (scale, min) = ScaleSearch.searchAffine(row, rangeMin: low, rangeMax: high, high: 15)
                        else { return false }
                        encodeGroup(row, scale: scale, min: min, into: candidate)
                        return true
                    },
                    decode: { Q4_1Kernel.dequantizeRow($0, count: groupSize, into: $1, blockElements: groupSize) })
            }
            group &+= 1
        }
    }
}
