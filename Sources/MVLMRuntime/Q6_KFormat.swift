/// GGUF Q6_K read in place: super-blocks of 256 weights, 210 bytes: 128 bytes of low nibbles
/// `ql`, 64 bytes of 2-bit high parts `qh`, 16 `int8` sub-block scales, `f16 d`; weight =
/// d · sc · (q − 32). Element `e` of a super-block: half `n = e / 128`, quarter `g = e % 128 / 32`,
/// lane `l = e % 32`; its low nibble is in `ql[64n + l + 32·(g & 1)]` (high nibble when g ≥ 2),
/// its high bits are bits `2g, 2g+1` of `qh[32n + l]`, its scale `sc[8n + l/16 + 2g]`.
enum Q6_KFormat: WeightFormat {
    static var elementSize: Int { 1 }
    static var packsPairs: Bool { false }

    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        let block = base + (index &>> 8) &* 210
        let within = index & 255
        let n = within &>> 7, g = (within &>> 5) & 3, l = within & 31
        let scale = Float(block.load(fromByteOffset: 192 &+ 8 &* n &+ (l &>> 4) &+ 2 &* g, as: Int8.self)) * BlockLanes.half(block, 208)
        let low = 64 &* n &+ l &+ 32 &* (g & 1)
        let high = 128 &+ 32 &* n &+ l
        let lowShift = SIMD4<UInt32>(repeating: UInt32(truncatingIfNeeded: (g &>> 1) &<< 2))
        let highShift = SIMD4<UInt32>(repeating: UInt32(truncatingIfNeeded: 2 &* g))
        func quarter(_ offset: Int) -> SIMD4<Float> {
            let lo = (BlockLanes.bytes4(block, low &+ offset) &>> lowShift) & SIMD4(repeating: 0xF)
            let hi = ((BlockLanes.bytes4(block, high &+ offset) &>> highShift) & SIMD4(repeating: 3)) &<< 4
            return (BlockLanes.floats(lo | hi) - SIMD4(repeating: 32)) * SIMD4(repeating: scale)
        }
        return (quarter(0), quarter(4))
    }

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        let block = base + (index &>> 8) &* 210
        let within = index & 255
        let n = within &>> 7, g = (within &>> 5) & 3, l = within & 31
        let scale = Float(block.load(fromByteOffset: 192 &+ 8 &* n &+ (l &>> 4) &+ 2 &* g, as: Int8.self)) * BlockLanes.half(block, 208)
        let byte = block.load(fromByteOffset: 64 &* n &+ l &+ 32 &* (g & 1), as: UInt8.self)
        let lo = g < 2 ? byte & 0xF : byte &>> 4
        let hi = (block.load(fromByteOffset: 128 &+ 32 &* n &+ l, as: UInt8.self) &>> UInt8(2 &* g)) & 3
        return (Float(lo | (hi &<< 4)) - 32) * scale
    }
}
