/// GGUF Q4_0 read in place: blocks of 32 weights, 18 bytes: `f16 d`, 16 bytes of nibbles (byte
/// `2+j` holds q[j] low, q[j+16] high); weight = d · (q − 8). Natural element order: elements
/// 0-15 are the low nibbles, 16-31 the high ones.
enum Q4_0Format: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }

    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index &>> 5) &* 18
        let d = BlockLanes.half(block, 0)
        let within = index & 31
        // Low nibbles for elements 0-15, high nibbles for 16-31.
        let (a, b) = BlockLanes.nibbles8(block, 2 &+ (within & 15), shift: UInt32(truncatingIfNeeded: (within &>> 4) &<< 2))
        let scale = SIMD4<Float>(repeating: d), eight = SIMD4<Float>(repeating: 8)
        // (q − 8) · d, the reference's order of operations, so every weight is bit-identical to it.
        return ((BlockLanes.floats(a) - eight) * scale, (BlockLanes.floats(b) - eight) * scale)
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let block = base + (index &>> 5) &* 18
        let within = index & 31
        let byte = block.load(fromByteOffset: 2 &+ (within & 15), as: UInt8.self)
        let q = within < 16 ? byte & 0xF : byte &>> 4
        return BlockLanes.half(block, 0) * (Float(q) - 8)
    }
}
