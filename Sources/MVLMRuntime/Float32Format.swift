/// float32 weights, read as they are.
@usableFromInline
enum Float32Format: WeightFormat {
    @usableFromInline static var elementSize: Int { 4 }
    @usableFromInline static var packsPairs: Bool { false }
    @inline(__always) @usableFromInline
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        (base.loadUnaligned(fromByteOffset: index &* 4, as: SIMD4<Float>.self),
         base.loadUnaligned(fromByteOffset: (index &+ 4) &* 4, as: SIMD4<Float>.self))
    }
    @inline(__always) @usableFromInline
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        base.loadUnaligned(fromByteOffset: index &* 4, as: Float.self)
    }
}
