/// Exact conversions between 32-bit floats and the 16-bit formats checkpoints store.
///
/// - f16 (IEEE binary16) -> f32 is exact for every value, including subnormals, ±Inf and NaN
///   (the NaN payload's top bits are kept).
/// - f32 -> f16 rounds to nearest, ties to even; overflow gives ±Inf; values below half the
///   smallest subnormal give ±0; NaN stays NaN (quiet).
/// - bf16 -> f32 is exact (a shift); f32 -> bf16 rounds to nearest even and keeps NaN a NaN.
///
/// The bulk functions process eight values per step with `SIMD8<UInt32>` integer arithmetic and no
/// branches, so they run at memory speed (see `docs/performance.md`).
public enum HalfPrecision {
    // MARK: Scalar

    /// Widens IEEE binary16 bits to a Float.
    @inlinable
    public static func float(fromFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: f16ToF32Bits(SIMD8<UInt32>(repeating: UInt32(bits)))[0])
    }

    /// Rounds a Float to IEEE binary16 bits (nearest, ties to even).
    @inlinable
    public static func float16Bits(from value: Float) -> UInt16 {
        UInt16(truncatingIfNeeded: f32ToF16Bits(SIMD8(repeating: value.bitPattern))[0])
    }

    /// Widens bfloat16 bits to a Float.
    @inlinable
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Rounds a Float to bfloat16 bits (nearest, ties to even).
    @inlinable
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        UInt16(truncatingIfNeeded: f32ToBF16Bits(SIMD8(repeating: value.bitPattern))[0])
    }

    // MARK: Vector kernels (bit patterns in, bit patterns out)

    @inlinable @inline(__always)
    static func floats(_ bits: SIMD8<UInt32>) -> SIMD8<Float> {
        unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    static func bits(_ floats: SIMD8<Float>) -> SIMD8<UInt32> {
        unsafeBitCast(floats, to: SIMD8<UInt32>.self)
    }

    /// All-ones lanes where `bit` is 1, zero lanes where it is 0.
    @inlinable @inline(__always)
    static func laneMask(_ bit: SIMD8<UInt32>) -> SIMD8<UInt32> { SIMD8<UInt32>(repeating: 0) &- bit }

    /// `a` where `mask` is all ones, `b` where it is zero (branch-free, vectorizes).
    @inlinable @inline(__always)
    static func select(_ mask: SIMD8<UInt32>, _ a: SIMD8<UInt32>, _ b: SIMD8<UInt32>) -> SIMD8<UInt32> {
        (a & mask) | (b & ~mask)
    }

    // The kernels use integer arithmetic for every lane decision (no SIMDMask), which LLVM turns
    // into straight-line vector code; `replace(with:where:)` was measured 30x slower here.

    @inlinable @inline(__always)
    public static func f16ToF32Bits(_ h: SIMD8<UInt32>) -> SIMD8<UInt32> {
        let signMask: UInt32 = 0x8000
        let magnitudeMask: UInt32 = 0x7FFF
        let rebias: UInt32 = (127 - 15) << 23
        let specialRebias: UInt32 = (128 - 16) << 23
        let one: UInt32 = 1 << 23
        let sign = (h & signMask) &<< 16
        let magnitude = h & magnitudeMask
        // Normal numbers: exponent and mantissa moved to f32 position, bias 15 -> 127.
        var result = (magnitude &<< 13) &+ rebias
        // Inf/NaN (magnitude >= 0x7C00): push the exponent on to 255.
        let isSpecial = (magnitude &+ 0x0400) &>> 15
        result = result &+ isSpecial &* specialRebias
        // Zero/subnormal (magnitude < 0x400): rebuild through a float subtraction, exact here.
        let isSmall = laneMask((magnitude &- 0x0400) &>> 31)
        let magic = SIMD8<Float>(repeating: Float(bitPattern: 113 << 23))
        let small = bits(floats(result &+ one) - magic)
        return select(isSmall, small, result) | sign
    }

    @inlinable @inline(__always)
    public static func f32ToF16Bits(_ f: SIMD8<UInt32>) -> SIMD8<UInt32> {
        let signMask: UInt32 = 0x8000_0000
        let f16Max: UInt32 = (127 + 16) << 23  // first magnitude that rounds to Inf
        let f32Infinity: UInt32 = 255 << 23
        let smallestNormal: UInt32 = 113 << 23
        let denormMagic: UInt32 = ((127 - 15) + (23 - 10) + 1) << 23
        let rebiasAndHalf: UInt32 = (((15 &- 127) as UInt32) << 23) &+ 0xFFF
        let quietNaN: UInt32 = 0x7E00
        let mantissaMask: UInt32 = 0x03FF
        let infinity16: UInt32 = 0x7C00
        let sign = f & signMask
        let magnitude = f ^ sign  // < 2^31, so the differences below carry their sign in bit 31
        // Normal results: rebias and round to nearest even by hand.
        let mantissaOdd = (magnitude &>> 13) & 1
        var result = (magnitude &+ rebiasAndHalf &+ mantissaOdd) &>> 13
        // Subnormal results: let the FPU round by adding a magic number.
        let magicFloat = SIMD8<Float>(repeating: Float(bitPattern: denormMagic))
        let subnormal = bits(floats(magnitude) + magicFloat) &- denormMagic
        result = select(laneMask((magnitude &- smallestNormal) &>> 31), subnormal, result)
        // Overflow becomes Inf; NaN keeps its top mantissa bits and is forced quiet.
        result = select(laneMask(((f16Max &- 1) &- magnitude) &>> 31), SIMD8(repeating: infinity16), result)
        let nan = ((magnitude &>> 13) & mantissaMask) | quietNaN
        result = select(laneMask((f32Infinity &- magnitude) &>> 31), nan, result)
        return result | (sign &>> 16)
    }

    @inlinable @inline(__always)
    public static func f32ToBF16Bits(_ f: SIMD8<UInt32>) -> SIMD8<UInt32> {
        let roundingBias: UInt32 = 0x7FFF
        let quietBit: UInt32 = 0x0040
        let absMask: UInt32 = 0x7FFF_FFFF
        let infinity: UInt32 = 0x7F80_0000
        let rounded = (f &+ roundingBias &+ ((f &>> 16) & 1)) &>> 16
        let isNaN = laneMask((infinity &- (f & absMask)) &>> 31)
        return select(isNaN, (f &>> 16) | quietBit, rounded)
    }

    // MARK: Bulk conversion

    /// Widens `source.count` f16 values into `destination`.
    public static func convertFloat16ToFloat(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(destination.count >= source.count, "destination too small")
        convert(source, into: destination) { f16ToF32Bits($0) }
    }

    /// Widens `source.count` bf16 values into `destination`.
    public static func convertBFloat16ToFloat(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(destination.count >= source.count, "destination too small")
        convert(source, into: destination) { $0 &<< 16 }
    }

    /// Rounds `source.count` floats to f16 into `destination`.
    public static func convertFloatToFloat16(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>
    ) {
        precondition(destination.count >= source.count, "destination too small")
        narrow(source, into: destination) { f32ToF16Bits($0) }
    }

    /// Rounds `source.count` floats to bf16 into `destination`.
    public static func convertFloatToBFloat16(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>
    ) {
        precondition(destination.count >= source.count, "destination too small")
        narrow(source, into: destination) { f32ToBF16Bits($0) }
    }

    @inline(__always)
    private static func convert(
        _ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>,
        _ kernel: (SIMD8<UInt32>) -> SIMD8<UInt32>
    ) {
        let count = source.count
        guard count > 0, let input = source.baseAddress, let output = destination.baseAddress else {
            return
        }
        let raw = UnsafeRawPointer(input)
        let out = UnsafeMutableRawPointer(output)
        var index = 0
        while index &+ 8 <= count {
            let halves = raw.loadUnaligned(fromByteOffset: index &* 2, as: SIMD8<UInt16>.self)
            let bits = kernel(SIMD8<UInt32>(truncatingIfNeeded: halves))
            out.storeBytes(of: bits, toByteOffset: index &* 4, as: SIMD8<UInt32>.self)
            index &+= 8
        }
        if index < count {
            var lanes = SIMD8<UInt32>(repeating: 0)
            for lane in 0..<(count &- index) {
                lanes[lane] = UInt32(raw.loadUnaligned(fromByteOffset: (index &+ lane) &* 2, as: UInt16.self))
            }
            let bits = kernel(lanes)
            for lane in 0..<(count &- index) { output[index &+ lane] = Float(bitPattern: bits[lane]) }
        }
    }

    @inline(__always)
    private static func narrow(
        _ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>,
        _ kernel: (SIMD8<UInt32>) -> SIMD8<UInt32>
    ) {
        let count = source.count
        guard count > 0, let input = source.baseAddress, let output = destination.baseAddress else {
            return
        }
        let raw = UnsafeRawPointer(input)
        let out = UnsafeMutableRawPointer(output)
        var index = 0
        while index &+ 8 <= count {
            let floats = raw.loadUnaligned(fromByteOffset: index &* 4, as: SIMD8<UInt32>.self)
            let bits = SIMD8<UInt16>(truncatingIfNeeded: kernel(floats))
            out.storeBytes(of: bits, toByteOffset: index &* 2, as: SIMD8<UInt16>.self)
            index &+= 8
        }
        if index < count {
            var lanes = SIMD8<UInt32>(repeating: 0)
            for lane in 0..<(count &- index) {
                lanes[lane] = raw.loadUnaligned(fromByteOffset: (index &+ lane) &* 4, as: UInt32.self)
            }
            let bits = kernel(lanes)
            for lane in 0..<(count &- index) {
                output[index &+ lane] = UInt16(truncatingIfNeeded: bits[lane])
            }
        }
    }
}
