/// Q2_K, Q3_K and Q5_K (256 weights per super-block). Q4_K and Q6_K live with their quantizers.
extension BlockDequantizer {
    /// Q2_K: 16 bytes of 4-bit scale/min pairs, 64 bytes of 2-bit q, `f16 d`, `f16 dmin`;
    /// value `d * (sc & 15) * q - dmin * (sc >> 4)`.
    static func dequantizeQ2_K(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 256 < count {
            let b = src + block &* 84
            let d = b.float16(at: 80)
            let dmin = b.float16(at: 82)
            var out = y + block &* 256
            var scaleIndex = 0
            for half in 0..<2 {
                let q = b + (16 &+ half &* 32)
                var shift: UInt8 = 0
                for _ in 0..<4 {
                    for part in 0..<2 {
                        let sc = b.load(fromByteOffset: scaleIndex, as: UInt8.self)
                        scaleIndex &+= 1
                        let dl = d * Float(sc & 0xF)
                        let ml = dmin * Float(sc &>> 4)
                        for l in 0..<16 {
                            let v = (q.load(fromByteOffset: l &+ part &* 16, as: UInt8.self) &>> shift) & 3
                            out[l] = dl * Float(v) - ml
                        }
                        out += 16
                    }
                    shift &+= 2
                }
            }
            block &+= 1
        }
    }

    /// Q3_K: 32 bytes high-bit mask, 64 bytes of 2-bit low parts, 12 bytes of 6-bit scales,
    /// `f16 d`; value `d * (sc - 32) * (q - (hbit ? 0 : 4))`.
    static func dequantizeQ3_K(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 256 < count {
            let b = src + block &* 110
            let dAll = b.float16(at: 108)
            var aux = (0 as UInt32, 0 as UInt32, 0 as UInt32, 0 as UInt32)
            let a0 = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 96, as: UInt32.self))
            let a1 = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 100, as: UInt32.self))
            let tmp = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 104, as: UInt32.self))
            let mask1: UInt32 = 0x0303_0303, mask2: UInt32 = 0x0F0F_0F0F
            aux.0 = (a0 & mask2) | (((tmp &>> 0) & mask1) &<< 4)
            aux.1 = (a1 & mask2) | (((tmp &>> 2) & mask1) &<< 4)
            aux.2 = ((a0 &>> 4) & mask2) | (((tmp &>> 4) & mask1) &<< 4)
            aux.3 = ((a1 &>> 4) & mask2) | (((tmp &>> 6) & mask1) &<< 4)
            // 16 signed 6-bit scales, as the C code reads them through `int8_t *` over aux[0...3].
            let words = SIMD4<UInt32>(aux.0, aux.1, aux.2, aux.3)
            @inline(__always) func scale(_ index: Int) -> Int32 {
                Int32(Int8(truncatingIfNeeded: words[index &>> 2] &>> UInt32((index & 3) &* 8)))
            }
            var out = y + block &* 256
            var scaleIndex = 0
            var mask: UInt8 = 1
            for half in 0..<2 {
                let q = b + (32 &+ half &* 32)
                var shift: UInt8 = 0
                for _ in 0..<4 {
                    for part in 0..<2 {
                        let dl = dAll * Float(scale(scaleIndex) &- 32)
                        scaleIndex &+= 1
                        for l in 0..<16 {
                            let index = l &+ part &* 16
                            let low = Int32((q.load(fromByteOffset: index, as: UInt8.self) &>> shift) & 3)
                            let high: Int32 = (b.load(fromByteOffset: index, as: UInt8.self) & mask) != 0 ? 0 : 4
                            out[l] = dl * Float(low &- high)
                        }
                        out += 16
                    }
                    shift &+= 2
                    mask = mask &<< 1
                }
            }
            block &+= 1
        }
    }

    /// Q5_K: `f16 d`, `f16 dmin`, 12 bytes of 6-bit scales/mins, 32 bytes of fifth bits, 128 bytes of
    /// nibbles; value `d * sc * q - dmin * m`, q in 0...31.
    static func dequantizeQ5_K(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        var block = 0
        while block &* 256 < count {
            let b = src + block &* 176
            let d = b.float16(at: 0)
            let dmin = b.float16(at: 2)
            let scales = b + 4
            let qh = b + 16
            var out = y + block &* 256
            var low: UInt8 = 1, high: UInt8 = 2
            for pair in 0..<4 {
                let ql = b + (48 &+ pair &* 32)
                let (sc1, m1) = Q4_KKernel.scaleAndMin(pair &* 2, scales)
                let (sc2, m2) = Q4_KKernel.scaleAndMin(pair &* 2 &+ 1, scales)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                for l in 0..<32 {
                    let h = qh.load(fromByteOffset: l, as: UInt8.self)
                    let q = Int32(ql.load(fromByteOffset: l, as: UInt8.self) & 0xF) &+ ((h & low) != 0 ? 16 : 0)
                    out[l] = d1 * Float(q) - min1
                }
                for l in 0..<32 {
                    let h = qh.load(fromByteOffset: l, as: UInt8.self)
                    let q = Int32(ql.load(fromByteOffset: l, as: UInt8.self) &>> 4) &+ ((h & high) != 0 ? 16 : 0)
                    out[l &+ 32] = d2 * Float(q) - min2
                }
                out += 64
                low = low &<< 2
                high = high &<< 2
            }
            block &+= 1
        }
    }
}
