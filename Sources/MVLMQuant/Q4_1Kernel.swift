import MVLMCore

/// GGUF Q4_1 blocks (see ``QuantizationScheme/q4_1``), bit-identical to gguf-python's
/// `Q4_1.quantize_blocks`. The searched variant is ``AffineInt4Kernel`` with groups of 32, whose
/// layout is the same.
enum Q4_1Kernel {
    static let elements = 32
    static let bytes = 20

    static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        var block = 0
        while block &* 32 < count {
            quantizeBlock(UnsafeRawPointer(x + block &* 32), into: out + block &* 20)
            block &+= 1
        }
    }

    @inline(__always)
    static func quantizeBlock(_ x: UnsafeRawPointer, into out: UnsafeMutableRawPointer) {
        let v0 = x.floats8(at: 0), v1 = x.floats8(at: 32), v2 = x.floats8(at: 64), v3 = x.floats8(at: 96)
        let max = SIMDMath.horizontalMaximum(SIMDMath.maximum(SIMDMath.maximum(v0, v1), SIMDMath.maximum(v2, v3)))
        let min = SIMDMath.horizontalMinimum(SIMDMath.minimum(SIMDMath.minimum(v0, v1), SIMDMath.minimum(v2, v3)))
        let d = (max - min) / 15
        let id: Float = d != 0 ? 1 / d : 0
        out.storeFloat16(d, at: 0)
        out.storeFloat16(min, at: 2)
        let m = SIMD8(repeating: min), i = SIMD8(repeating: id)
        let q0 = quantized((v0 - m) * i), q1 = quantized((v1 - m) * i)
        let q2 = quantized((v2 - m) * i), q3 = quantized((v3 - m) * i)
        out.storeBytes(of: SIMDMath.bytes(q0 | (q2 &<< 4)), toByteOffset: 4, as: SIMD8<UInt8>.self)
        out.storeBytes(of: SIMDMath.bytes(q1 | (q3 &<< 4)), toByteOffset: 12, as: SIMD8<UInt8>.self)
    }

    /// `min(15, uint8(trunc(v + 0.5)))` for v >= 0; non-finite lanes give 0.
    @inline(__always)
    static func quantized(_ v: SIMD8<Float>) -> SIMD8<Int32> {
        let shifted = v + SIMD8(repeating: 0.5)
        // shifted is >= 0 for finite input; NaN/inf lanes (tiny blocks whose 1/d overflowed) -> 0.
        let valid = SIMDMath.lessThan(SIMD8(repeating: -1), shifted) & SIMDMath.lessThan(shifted, SIMD8(repeating: Float(1 << 20)))
        let safe = SIMDMath.maximum(SIMDMath.select(valid, shifted, SIMD8()), SIMD8())
        let even = SIMDMath.roundedEven(safe)
        let truncated = SIMDMath.select(SIMDMath.greaterThan(even, safe), even - 1, even)
        return SIMDMath.integers(SIMDMath.minimum(truncated, SIMD8(repeating: 15)))
    }

    /// Dequantizes Q4_1 and affine int4 groups: `blockElements` weights per `4 + blockElements/2`
    /// bytes, value `d * q + m`.
    static func dequantizeRow(
        _ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>, blockElements: Int = 32
    ) {
        let half = blockElements &>> 1
        let blockBytes = 4 &+ half
        var block = 0
        while block &* blockElements < count {
            let b = src + block &* blockBytes
            let d = SIMD8<Float>(repeating: b.float16(at: 0))
            let m = SIMD8<Float>(repeating: b.float16(at: 2))
            let out = UnsafeMutableRawPointer(y + block &* blockElements)
            var part = 0
            while part < half {
                let packed = SIMD8<Int32>(truncatingIfNeeded: b.loadUnaligned(fromByteOffset: 4 &+ part, as: SIMD8<UInt8>.self))
                out.storeFloats8(d * SIMDMath.floats(packed & 0xF) + m, at: part &* 4)
                out.storeFloats8(d * SIMDMath.floats(packed &>> 4) + m, at: (half &+ part) &* 4)
                part &+= 8
            }
            block &+= 1
        }
    }
}
