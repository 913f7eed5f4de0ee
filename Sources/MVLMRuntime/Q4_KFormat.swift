/// GGUF Q4_K read in place: super-blocks of 256 weights, 144 bytes: `f16 d`, `f16 dmin`, 12 bytes
/// of 6-bit sub-block scales and mins, 128 bytes of nibbles (each 32-byte run holds sub-blocks
/// 2p (low nibbles) and 2p+1 (high nibbles)); weight = d · sc[j] · q − dmin · m[j].
enum Q4_KFormat: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }

    /// Scale and min of sub-block `j` (llama.cpp's `get_scale_min_k4`).
    @inline(__always)
    static func scaleMin(_ block: UnsafeRawPointer, _ j: Int) -> (Float, Float) {
        let s = block + 4
        if j < 4 {
            return (Float(s.load(fromByteOffset: j, as: UInt8.self) & 63), Float(s.load(fromByteOffset: j &+ 4, as: UInt8.self) & 63))
        }
        let a = s.load(fromByteOffset: j &+ 4, as: UInt8.self)
        let low = s.load(fromByteOffset: j &- 4, as: UInt8.self), high = s.load(fromByteOffset: j, as: UInt8.self)
        return (Float((a & 0xF) | ((low &>> 6) &<< 4)), Float((a &>> 4) | ((high &>> 6) &<< 4)))
    }

    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index &>> 8) &* 144
        let within = index & 255
        let j = within &>> 5
        let (sc, m) = scaleMin(block, j)
        let scale = SIMD4<Float>(repeating: BlockLanes.half(block, 0) * sc)
        let offset = SIMD4<Float>(repeating: -BlockLanes.half(block, 2) * m)
        let byte = 16 &+ (j &>> 1) &* 32 &+ (within & 31)
        let (a, b) = BlockLanes.nibbles8(block, byte, shift: UInt32(truncatingIfNeeded: (j & 1) &<< 2))
        return (BlockLanes.floats(a) * scale + offset, BlockLanes.floats(b) * scale + offset)
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let block = base + (index &>> 8) &* 144
        let within = index & 255
        let j = within &>> 5
        let (sc, m) = scaleMin(block, j)
        let byte = block.load(fromByteOffset: 16 &+ (j &>> 1) &* 32 &+ (within & 31), as: UInt8.self)
        let q = (j & 1) == 0 ? byte & 0xF : byte &>> 4
        return BlockLanes.half(block, 0) * sc * Float(q) - BlockLanes.half(block, 2) * m
    }
}
