/// GGUF Q5_0 read in place: blocks of 32 weights, 22 bytes: `f16 d`, `u32 qh` (bit j is bit 4 of
/// q[j]), 16 bytes of low nibbles as in Q4_0; weight = d · (q − 16).
enum Q5_0Format: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }

    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index &>> 5) &* 22
        let d = BlockLanes.half(block, 0)
        let within = index & 31
        let bits = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)) &>> UInt32(truncatingIfNeeded: within)
        // Bit k of `bits` becomes bit 4 of lane k: spread the byte over the lanes, then move each bit up.
        let spread = SIMD4<UInt32>(repeating: bits)
        let highA = ((spread &>> SIMD4(0, 1, 2, 3)) & SIMD4(repeating: 1)) &<< 4
        let highB = ((spread &>> SIMD4(4, 5, 6, 7)) & SIMD4(repeating: 1)) &<< 4
        let (low, high) = BlockLanes.nibbles8(block, 6 &+ (within & 15), shift: UInt32(truncatingIfNeeded: (within &>> 4) &<< 2))
        let a = low | highA, b = high | highB
        let scale = SIMD4<Float>(repeating: d), sixteen = SIMD4<Float>(repeating: 16)
        return ((BlockLanes.floats(a) - sixteen) * scale, (BlockLanes.floats(b) - sixteen) * scale)
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let block = base + (index &>> 5) &* 22
        let within = index & 31
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let byte = block.load(fromByteOffset: 6 &+ (within & 15), as: UInt8.self)
        let low = within < 16 ? byte & 0xF : byte &>> 4
        let high = UInt8(truncatingIfNeeded: (qh &>> UInt32(within)) & 1) &<< 4
        return BlockLanes.half(block, 0) * (Float(low | high) - 16)
    }
}
