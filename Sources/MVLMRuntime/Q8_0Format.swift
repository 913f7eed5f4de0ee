/// GGUF Q8_0 (and the toolkit's INT8_B32, which has the same layout) read in place: blocks of 32
/// weights, 34 bytes: `f16 d`, then 32 `int8` q; weight = d · q. Rows are whole blocks, so element
/// `i` of the tensor lives in block `i / 32`. Natural element order.
enum Q8_0Format: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }

    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index &>> 5) &* 34
        let d = SIMD4<Float>(repeating: BlockLanes.half(block, 0))
        let q = 2 &+ (index & 31)
        return (BlockLanes.signedBytes4(block, q) * d, BlockLanes.signedBytes4(block, q &+ 4) * d)
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let block = base + (index &>> 5) &* 34
        return BlockLanes.half(block, 0) * Float(block.load(fromByteOffset: 2 &+ (index & 31), as: Int8.self))
    }
}
