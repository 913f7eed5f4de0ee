import MVLMCore

/// GGUF Q8_0 blocks (see ``QuantizationScheme/q8_0``), bit-identical to gguf-python's
/// `Q8_0.quantize_blocks` and ggml's `quantize_row_q8_0_ref`.
enum Q8_0Kernel {
    static let elements = 32
    static let bytes = 34

    /// Quantizes `count` (a multiple of 32) floats.
    static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        var block = 0
        while block &* 32 < count {
            quantizeBlock(UnsafeRawPointer(x + block &* 32), into: out + block &* 34)
            block &+= 1
        }
    }

    @inline(__always)
    static func quantizeBlock(_ x: UnsafeRawPointer, into out: UnsafeMutableRawPointer) {
        let v0 = x.floats8(at: 0), v1 = x.floats8(at: 32), v2 = x.floats8(at: 64), v3 = x.floats8(at: 96)
        let amax = SIMDMath.horizontalMaximum(SIMDMath.maximum(
            SIMDMath.maximum(SIMDMath.absolute(v0), SIMDMath.absolute(v1)),
            SIMDMath.maximum(SIMDMath.absolute(v2), SIMDMath.absolute(v3))))
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        out.storeFloat16(d, at: 0)
        out.storeBytes(of: quantized(v0 * id), toByteOffset: 2, as: SIMD8<Int8>.self)
        out.storeBytes(of: quantized(v1 * id), toByteOffset: 10, as: SIMD8<Int8>.self)
        out.storeBytes(of: quantized(v2 * id), toByteOffset: 18, as: SIMD8<Int8>.self)
        out.storeBytes(of: quantized(v3 * id), toByteOffset: 26, as: SIMD8<Int8>.self)
    }

    /// `(int8_t)roundf(v)`; lanes that are not finite (only possible when `1/d` overflowed for
    /// sub-1e-37 blocks) become 0, which is what the C cast and numpy's `astype` give on x86.
    @inline(__always)
    static func quantized(_ v: SIMD8<Float>) -> SIMD8<Int8> {
        let inRange = SIMDMath.lessThan(SIMDMath.absolute(v), SIMD8(repeating: 128))
        let rounded = SIMDMath.roundedAway(SIMDMath.select(inRange, v, SIMD8()))
        return SIMD8<Int8>(truncatingIfNeeded: SIMDMath.integers(rounded))
    }

    static func dequantizeRow(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 32 < count {
            let b = src + block &* 34
            let d = SIMD8<Float>(repeating: b.float16(at: 0))
            let out = UnsafeMutableRawPointer(y + block &* 32)
            for part in 0..<4 {
                let q = b.loadUnaligned(fromByteOffset: 2 &+ part &* 8, as: SIMD8<Int8>.self)
                out.storeFloats8(SIMDMath.floats(SIMD8<Int32>(truncatingIfNeeded: q)) * d, at: part &* 32)
            }
            block &+= 1
        }
    }
}
