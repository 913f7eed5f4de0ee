/// Q5_0 and Q5_1 (32 weights per block, a fifth bit per weight in a 32-bit mask).
extension BlockDequantizer {
    /// Q5_0: `f16 d`, `u32 qh`, 16 bytes of nibbles; value `d * (q - 16)`.
    static func dequantizeQ5_0(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 32 < count {
            let b = src + block &* 22
            let d = b.float16(at: 0)
            let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let out = y + block &* 32
            for j in 0..<16 {
                let byte = Int32(b.load(fromByteOffset: 6 &+ j, as: UInt8.self))
                let high0 = Int32(truncatingIfNeeded: ((qh &>> UInt32(j)) &<< 4) & 0x10)
                let high1 = Int32(truncatingIfNeeded: (qh &>> UInt32(j &+ 12)) & 0x10)
                out[j] = Float(((byte & 0xF) | high0) &- 16) * d
                out[j &+ 16] = Float(((byte &>> 4) | high1) &- 16) * d
            }
            block &+= 1
        }
    }

    /// Q5_1: `f16 d`, `f16 m`, `u32 qh`, 16 bytes of nibbles; value `d * q + m`.
    static func dequantizeQ5_1(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 32 < count {
            let b = src + block &* 24
            let d = b.float16(at: 0)
            let m = b.float16(at: 2)
            let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let out = y + block &* 32
            for j in 0..<16 {
                let byte = Int32(b.load(fromByteOffset: 8 &+ j, as: UInt8.self))
                let high0 = Int32(truncatingIfNeeded: ((qh &>> UInt32(j)) &<< 4) & 0x10)
                let high1 = Int32(truncatingIfNeeded: (qh &>> UInt32(j &+ 12)) & 0x10)
                out[j] = d * Float((byte & 0xF) | high0) + m
                out[j &+ 16] = d * Float((byte &>> 4) | high1) + m
            }
            block &+= 1
        }
    }
}
