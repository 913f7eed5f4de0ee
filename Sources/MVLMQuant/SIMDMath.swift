import MVLMCore

/// Lane-wise helpers shared by the kernels: comparisons, selects and rounding that compile to
/// straight SSE/NEON code, plus rounding that matches the reference quantizers bit for bit.
///
/// Why not the standard library's `.<` and `replacing(with:where:)` on `SIMD8<Float>`: measured
/// here (Swift 6.3, x86-64), a float comparison producing a `SIMDMask` compiles to a scalar loop
/// that writes lanes through memory (store-forwarding stalls, ~100 ns per 8 lanes), and
/// `pointwiseMin`/`.max()` are out-of-line generic calls. The forms below compile to
/// `cmpltps`, `andps`/`andnps`/`orps`, `minps`/`maxps`. Masks are all-ones/all-zeros `UInt32` lanes.
@usableFromInline
enum SIMDMath {
    typealias Mask = SIMD8<UInt32>

    /// 1.5 * 2^23: adding it to |v| < 2^22 leaves the value rounded to the nearest integer (ties to
    /// even) in the low mantissa bits. This is ggml's `nearest_int` trick.
    @usableFromInline static let magic: Float = 12_582_912
    @usableFromInline static let magicBits: Int32 = 0x4B40_0000

    // MARK: Masks and selects

    @inline(__always)
    static func lessThan(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> Mask {
        let ones = SIMD8<Float>(repeating: Float(bitPattern: 0xFFFF_FFFF)), zero = SIMD8<Float>()
        var m = zero
        for i in 0..<8 { m[i] = a[i] < b[i] ? ones[i] : zero[i] }
        return unsafeBitCast(m, to: Mask.self)
    }

    @inline(__always)
    static func greaterThan(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> Mask { lessThan(b, a) }

    @inline(__always)
    static func equal(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> Mask {
        let ones = SIMD8<Float>(repeating: Float(bitPattern: 0xFFFF_FFFF)), zero = SIMD8<Float>()
        var m = zero
        for i in 0..<8 { m[i] = a[i] == b[i] ? ones[i] : zero[i] }
        return unsafeBitCast(m, to: Mask.self)
    }

    /// Lanes where `a != b` (true for NaN, like C's `!=`).
    @inline(__always)
    static func notEqual(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> Mask { ~equal(a, b) }

    /// `mask ? a : b` lane-wise.
    @inline(__always)
    static func select(_ mask: Mask, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        let bits = (unsafeBitCast(a, to: Mask.self) & mask) | (unsafeBitCast(b, to: Mask.self) & ~mask)
        return unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    @inline(__always)
    static func select(_ mask: Mask, _ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
        let m = unsafeBitCast(mask, to: SIMD8<Int32>.self)
        return (a & m) | (b & ~m)
    }

    @inline(__always)
    static func any(_ mask: Mask) -> Bool {
        var accumulated: UInt32 = 0
        for i in 0..<8 { accumulated |= mask[i] }
        return accumulated != 0
    }

    // MARK: Arithmetic

    /// |v| lane-wise (clears the sign bit; NaN stays NaN).
    @inline(__always)
    static func absolute(_ v: SIMD8<Float>) -> SIMD8<Float> {
        unsafeBitCast(unsafeBitCast(v, to: Mask.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    }

    /// `b < a ? b : a` lane-wise (`minps`).
    @inline(__always)
    static func minimum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        var r = a
        for i in 0..<8 { r[i] = b[i] < a[i] ? b[i] : a[i] }
        return r
    }

    /// `b > a ? b : a` lane-wise (`maxps`).
    @inline(__always)
    static func maximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        var r = a
        for i in 0..<8 { r[i] = b[i] > a[i] ? b[i] : a[i] }
        return r
    }

    /// Lane-wise clamp (NaN-free input).
    @inline(__always)
    static func clamp(_ v: SIMD8<Float>, _ low: Float, _ high: Float) -> SIMD8<Float> {
        minimum(maximum(v, SIMD8(repeating: low)), SIMD8(repeating: high))
    }

    @inline(__always)
    static func clamp(_ v: SIMD8<Int32>, _ low: Int32, _ high: Int32) -> SIMD8<Int32> {
        var r = v
        for i in 0..<8 { r[i] = v[i] < low ? low : (v[i] > high ? high : v[i]) }
        return r
    }

    /// The largest lane (no NaN).
    @inline(__always)
    static func horizontalMaximum(_ v: SIMD8<Float>) -> Float {
        let m = maximum4(v.lowHalf, v.highHalf)
        let n = maximum2(m.lowHalf, m.highHalf)
        return n[1] > n[0] ? n[1] : n[0]
    }

    /// The smallest lane (no NaN). (Not `-max(-v)`: the standard library's SIMD negation is
    /// `0 - v`, which turns -0 into +0.)
    @inline(__always)
    static func horizontalMinimum(_ v: SIMD8<Float>) -> Float {
        let m = minimum(SIMD8(lowHalf: v.lowHalf, highHalf: v.lowHalf), SIMD8(lowHalf: v.highHalf, highHalf: v.highHalf))
        var r = m[0]
        for i in 1..<4 where m[i] < r { r = m[i] }
        return r
    }

    @inline(__always)
    private static func maximum4(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
        var r = a
        for i in 0..<4 { r[i] = b[i] > a[i] ? b[i] : a[i] }
        return r
    }

    @inline(__always)
    private static func maximum2(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> SIMD2<Float> {
        var r = a
        for i in 0..<2 { r[i] = b[i] > a[i] ? b[i] : a[i] }
        return r
    }

    // MARK: Rounding

    /// Rounds to the nearest integer, ties to even. Exact for |v| < 2^22.
    @inline(__always)
    static func roundedEven(_ v: SIMD8<Float>) -> SIMD8<Float> {
        (v + SIMD8(repeating: magic)) - SIMD8(repeating: magic)
    }

    /// ggml's `nearest_int`: `(bits(v + 1.5*2^23) & 0x7fffff) - 0x400000`. Equals round-to-nearest-
    /// even for |v| <= 4194303; outside that range it returns the same (meaningless) integer as the C
    /// code with assertions off, which is what byte identity needs.
    @inline(__always)
    static func nearestInt(_ v: SIMD8<Float>) -> SIMD8<Int32> {
        let bits = unsafeBitCast(v + SIMD8(repeating: magic), to: SIMD8<Int32>.self)
        return (bits & 0x007F_FFFF) &- 0x0040_0000
    }

    /// Scalar `nearest_int`.
    @inline(__always)
    static func nearestInt(_ v: Float) -> Int32 {
        let bits = Int32(bitPattern: (v + magic).bitPattern)
        return (bits & 0x007F_FFFF) &- 0x0040_0000
    }

    /// C `roundf` (half away from zero). Exact for |v| < 2^22.
    @inline(__always)
    static func roundedAway(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let even = roundedEven(v)
        let tie = equal(absolute(v - even), SIMD8(repeating: 0.5))
        // On a tie, v ± 0.5 (sign of v) is the integer away from zero, exactly.
        let half = unsafeBitCast((unsafeBitCast(v, to: Mask.self) & 0x8000_0000) | 0x3F00_0000, to: SIMD8<Float>.self)
        return select(tie, v + half, even)
    }

    /// Converts integral floats with |v| < 2^22 to Int32 (no traps, no libm).
    @inline(__always)
    static func integers(_ integral: SIMD8<Float>) -> SIMD8<Int32> {
        unsafeBitCast(integral + SIMD8(repeating: magic), to: SIMD8<Int32>.self) &- magicBits
    }

    /// Converts integers with |v| < 2^22 to floats lane-wise.
    @inline(__always)
    static func floats(_ integers: SIMD8<Int32>) -> SIMD8<Float> {
        unsafeBitCast(integers &+ magicBits, to: SIMD8<Float>.self) - SIMD8(repeating: magic)
    }

    /// Packs 8 small integers (0...255) into 8 bytes.
    @inline(__always)
    static func bytes(_ v: SIMD8<Int32>) -> SIMD8<UInt8> { SIMD8<UInt8>(truncatingIfNeeded: v) }
}
