/// GGUF Q4_1 (and the toolkit's AFFINE4_G32, which has the same layout) read in place: blocks of
/// 32 weights, 20 bytes: `f16 d`, `f16 m`, 16 bytes of nibbles as in Q4_0; weight = d · q + m.
enum Q4_1Format: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }

    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index &>> 5) &* 20
        let d = SIMD4<Float>(repeating: BlockLanes.half(block, 0)), m = SIMD4<Float>(repeating: BlockLanes.half(block, 2))
        let within = index & 31
        let (a, b) = BlockLanes.nibbles8(block, 4 &+ (within & 15), shift: UInt32(truncatingIfNeeded: (within &>> 4) &<< 2))
        return (BlockLanes.floats(a) * d + m, BlockLanes.floats(b) * d + m)
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let block = base + (index &>> 5) &* 20
        let within = index & 31
        let byte = block.load(fromByteOffset: 4 &+ (within & 15), as: UInt8.self)
        let q = within < 16 ? byte & 0xF : byte &>> 4
        return BlockLanes.half(block, 0) * Float(q) + BlockLanes.half(block, 2)
    }
}
