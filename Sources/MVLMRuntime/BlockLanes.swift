import MVLMCore

/// Widening helpers for block formats: small integers to floats with integer arithmetic and one
/// float subtraction (no conversion instructions baseline x86-64 lacks for vectors).
enum BlockLanes {
    /// 2^23: a float whose mantissa holds an integer 0 ..< 2^23 exactly.
    static let twoTo23: Float = 8_388_608
    /// 1.5 · 2^23: the same for signed integers |v| < 2^22.
    static let signedMagic: Float = 12_582_912

    /// Four unsigned bytes at `offset` as Int32 lanes.
    @inline(__always)
    static func bytes4(_ base: UnsafeRawPointer, _ offset: Int) -> SIMD4<UInt32> {
        SIMD4<UInt32>(truncatingIfNeeded: base.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt8>.self))
    }

    /// Four signed bytes at `offset`, widened to floats.
    @inline(__always)
    static func signedBytes4(_ base: UnsafeRawPointer, _ offset: Int) -> SIMD4<Float> {
        let wide = SIMD4<Int32>(truncatingIfNeeded: base.loadUnaligned(fromByteOffset: offset, as: SIMD4<Int8>.self))
        return unsafeBitCast(wide &+ SIMD4(repeating: 0x4B40_0000), to: SIMD4<Float>.self) - SIMD4(repeating: signedMagic)
    }

    /// Eight 4-bit values from the bytes at `offset ..< offset + 8`: their low nibbles, or their
    /// high nibbles when `shift` is 4 (the GGML nibble order: a block's first half in the low
    /// nibbles, its second half in the high ones).
    @inline(__always)
    static func nibbles8(_ base: UnsafeRawPointer, _ offset: Int, shift: UInt32) -> (SIMD4<UInt32>, SIMD4<UInt32>) {
        let s = SIMD4<UInt32>(repeating: shift), mask = SIMD4<UInt32>(repeating: 0xF)
        return ((bytes4(base, offset) &>> s) & mask, (bytes4(base, offset &+ 4) &>> s) & mask)
    }

    /// Unsigned integers 0 ..< 2^23 in lanes, as floats.
    @inline(__always)
    static func floats(_ v: SIMD4<UInt32>) -> SIMD4<Float> {
        unsafeBitCast(v | SIMD4(repeating: 0x4B00_0000), to: SIMD4<Float>.self) - SIMD4(repeating: twoTo23)
    }

    /// The f16 at `offset`, widened (through a 65,536-entry table: one load instead of the
    /// dozen vector operations of an exact widening per block scale).
    @inline(__always)
    static func half(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
        halfTable[Int(base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))]
    }

    /// Every f16 bit pattern widened exactly (built once, 256 KiB, never freed).
    nonisolated(unsafe) static let halfTable: UnsafePointer<Float> = {
        let table = UnsafeMutablePointer<Float>.allocate(capacity: 65536)
        for bits in 0..<65536 { table[bits] = HalfPrecision.float(fromFloat16Bits: UInt16(bits)) }
        return UnsafePointer(table)
    }()
}
