import MVLMCore

/// GGUF Q4_0 blocks (see ``QuantizationScheme/q4_0``), bit-identical to gguf-python's
/// `Q4_0.quantize_blocks`.
enum Q4_0Kernel {
    static let elements = 32
    static let bytes = 18

    static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        var block = 0
        while block &* 32 < count {
            quantizeBlock(x + block &* 32, into: out + block &* 18)
            block &+= 1
        }
    }

    @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
        let raw = UnsafeRawPointer(x)
        let v0 = raw.floats8(at: 0), v1 = raw.floats8(at: 32), v2 = raw.floats8(at: 64), v3 = raw.floats8(at: 96)
        let amax = SIMDMath.horizontalMaximum(SIMDMath.maximum(
            SIMDMath.maximum(SIMDMath.absolute(v0), SIMDMath.absolute(v1)),
            SIMDMath.maximum(SIMDMath.absolute(v2), SIMDMath.absolute(v3))))
        // numpy argmax: the first element whose magnitude is the maximum.
        var max = x[0]
        for index in 0..<32 where abs(x[index]) == amax {
            max = x[index]
            break
        }
        let d = max / -8
        let id: Float = d != 0 ? 1 / d : 0
        out.storeFloat16(d, at: 0)
        let q0 = quantized(v0 * id), q1 = quantized(v1 * id), q2 = quantized(v2 * id), q3 = quantized(v3 * id)
        out.storeBytes(of: SIMDMath.bytes(q0 | (q2 &<< 4)), toByteOffset: 2, as: SIMD8<UInt8>.self)
        out.storeBytes(of: SIMDMath.bytes(q1 | (q3 &<< 4)), toByteOffset: 10, as: SIMD8<UInt8>.self)
    }

    /// `min(15, uint8(trunc(v + 8.5)))`; non-finite lanes give 0 as the C cast does on x86.
    @inline(__always)
    static func quantized(_ v: SIMD8<Float>) -> SIMD8<Int32> {
        let shifted = v + SIMD8(repeating: 8.5)
        // shifted is >= 0 for finite input; NaN/inf lanes (tiny blocks whose 1/d overflowed) -> 0.
        let valid = SIMDMath.lessThan(SIMD8(repeating: -1), shifted) & SIMDMath.lessThan(shifted, SIMD8(repeating: Float(1 << 20)))
        let safe = SIMDMath.maximum(SIMDMath.select(valid, shifted, SIMD8()), SIMD8())
        let even = SIMDMath.roundedEven(safe)
        let truncated = SIMDMath.select(SIMDMath.greaterThan(even, safe), even - 1, even)
        return SIMDMath.integers(SIMDMath.minimum(truncated, SIMD8(repeating: 15)))
    }

    static func dequantizeRow(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 32 < count {
            let b = src + block &* 18
            let d = SIMD8<Float>(repeating: b.float16(at: 0))
            let out = UnsafeMutableRawPointer(y + block &* 32)
            for part in 0..<2 {
                let packed = SIMD8<Int32>(truncatingIfNeeded: b.loadUnaligned(fromByteOffset: 2 &+ part &* 8, as: SIMD8<UInt8>.self))
                let low = (packed & 0xF) &- 8
                let high = (packed &>> 4) &- 8
                out.storeFloats8(d * SIMDMath.floats(low), at: part &* 32)
                out.storeFloats8(d * SIMDMath.floats(high), at: 64 &+ part &* 32)
            }
            block &+= 1
        }
    }
}
