/// bfloat16: the upper half of a float32, widened by a shift (odd elements by a mask).
@usableFromInline
enum BFloat16Format: WeightFormat {
    @usableFromInline static var elementSize: Int { 2 }
    @usableFromInline static var packsPairs: Bool { true }
    @inline(__always) @usableFromInline
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let pairs = base.loadUnaligned(fromByteOffset: index &* 2, as: SIMD4<UInt32>.self)
        let even = pairs &<< SIMD4(repeating: 16)
        let odd = pairs & SIMD4(repeating: 0xFFFF_0000)
        return (unsafeBitCast(even, to: SIMD4<Float>.self), unsafeBitCast(odd, to: SIMD4<Float>.self))
    }
    @inline(__always) @usableFromInline
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self)) << 16)
    }
}
