/// GGUF IQ4_NL read in place: blocks of 32 weights, 18 bytes: `f16 d`, 16 bytes of 4-bit indices
/// laid out as Q4_0's nibbles (byte `2+j` holds q[j] low, q[j+16] high); weight = d · grid[q] with
/// ggml's fixed grid `kvalues_iq4nl`. Natural element order.
enum IQ4_NLFormat: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }

    /// ggml's `kvalues_iq4nl` as f32.
    static let grid: SIMD16<Float> = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index &>> 5) &* 18
        let d = BlockLanes.half(block, 0)
        let within = index & 31
        let (a, b) = BlockLanes.nibbles8(block, 2 &+ (within & 15), shift: UInt32(truncatingIfNeeded: (within &>> 4) &<< 2))
        let table = grid
        let ga = SIMD4<Float>(table[Int(a[0])], table[Int(a[1])], table[Int(a[2])], table[Int(a[3])])
        let gb = SIMD4<Float>(table[Int(b[0])], table[Int(b[1])], table[Int(b[2])], table[Int(b[3])])
        let scale = SIMD4<Float>(repeating: d)
        return (scale * ga, scale * gb)
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let block = base + (index &>> 5) &* 18
        let within = index & 31
        let byte = block.load(fromByteOffset: 2 &+ (within & 15), as: UInt8.self)
        let q = within < 16 ? byte & 0xF : byte &>> 4
        return BlockLanes.half(block, 0) * grid[Int(q)]
    }
}
