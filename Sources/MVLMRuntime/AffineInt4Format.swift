/// The toolkit's AFFINE4_G64 and AFFINE4_G128 read in place: groups of G weights, `4 + G/2` bytes:
/// `f16 scale`, `f16 min`, then nibbles (byte `4+j` holds q[j] low and q[j + G/2] high); weight =
/// scale · q + min. (AFFINE4_G32 is byte-identical to Q4_1 and reads through `Q4_1Format`.)
enum AffineInt4G64Format: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }
    @inline(__always) static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        AffineInt4Lanes.load8(base, index, group: 64)
    }
    @inline(__always) static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        AffineInt4Lanes.load(base, index, group: 64)
    }
}

/// AFFINE4_G128; see `AffineInt4G64Format`.
enum AffineInt4G128Format: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }
    @inline(__always) static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        AffineInt4Lanes.load8(base, index, group: 128)
    }
    @inline(__always) static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        AffineInt4Lanes.load(base, index, group: 128)
    }
}

/// The shared arithmetic of the affine int4 formats (G is a constant after inlining).
enum AffineInt4Lanes {
    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int, group: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index / group) &* (4 &+ group / 2)
        let scale = SIMD4<Float>(repeating: BlockLanes.half(block, 0)), minimum = SIMD4<Float>(repeating: BlockLanes.half(block, 2))
        let within = index % group, half = group / 2
        let (a, b) = BlockLanes.nibbles8(block, 4 &+ (within < half ? within : within &- half), shift: within < half ? 0 : 4)
        return (BlockLanes.floats(a) * scale + minimum, BlockLanes.floats(b) * scale + minimum)
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int, group: Int) -> Float {
        let block = base + (index / group) &* (4 &+ group / 2)
        let within = index % group, half = group / 2
        let byte = block.load(fromByteOffset: 4 &+ (within < half ? within : within &- half), as: UInt8.self)
        let q = within < half ? byte & 0xF : byte &>> 4
        return BlockLanes.half(block, 0) * Float(q) + BlockLanes.half(block, 2)
    }
}
