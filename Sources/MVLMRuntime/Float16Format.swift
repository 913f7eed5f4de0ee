import MVLMCore

/// IEEE binary16, widened exactly with integer and float arithmetic only (no masks, selects or
/// shuffles), starting from each half in the top 16 bits of a lane (`s`):
/// - sign, exponent and mantissa: an arithmetic shift right by 3 and the mask `0x8FFFE000` put
///   them in float position (the shift's copies of the sign in bits 28-30 are cleared); the
///   float multiply by 2^112 rebiases normals and turns subnormals into normals, exactly, and
///   keeps the sign (also of zero);
/// - Inf/NaN: `(s & 0x7C000000) + 0x04000000` carries into bit 31 only when the exponent is all
///   ones; an arithmetic shift by 8 spreads it over the float exponent field, which is or-ed in
///   (255, mantissa and NaN payload kept).
@usableFromInline
enum Float16Format: WeightFormat {
    @usableFromInline static var elementSize: Int { 2 }
    @usableFromInline static var packsPairs: Bool { true }

    /// Widens four halves held in the top 16 bits of each lane (low bits ignored).
    @inline(__always) @usableFromInline
    static func widenHigh(_ s: SIMD4<UInt32>) -> SIMD4<Float> {
        let shifted = unsafeBitCast(s, to: SIMD4<Int32>.self) &>> SIMD4(repeating: 3)
        let positioned = unsafeBitCast(shifted, to: SIMD4<UInt32>.self) & SIMD4(repeating: 0x8FFF_E000)
        let product = unsafeBitCast(positioned, to: SIMD4<Float>.self) * SIMD4(repeating: 0x1p112)
        let carry = (s & SIMD4(repeating: 0x7C00_0000)) &+ SIMD4(repeating: 0x0400_0000)
        let spread = unsafeBitCast(carry, to: SIMD4<Int32>.self) &>> SIMD4(repeating: 8)
        let special = unsafeBitCast(spread, to: SIMD4<UInt32>.self) & SIMD4(repeating: 0x7F80_0000)
        return unsafeBitCast(unsafeBitCast(product, to: SIMD4<UInt32>.self) | special, to: SIMD4<Float>.self)
    }

    @inline(__always) @usableFromInline
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let pairs = base.loadUnaligned(fromByteOffset: index &* 2, as: SIMD4<UInt32>.self)
        // Little-endian: the even element is the low half of each pair.
        return (widenHigh(pairs &<< SIMD4(repeating: 16)), widenHigh(pairs))
    }
    @inline(__always) @usableFromInline
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let bits = UInt32(base.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self)) << 16
        return widenHigh(SIMD4(repeating: bits))[0]
    }
}
