import MVLMCore

/// GGUF Q5_0 blocks (see ``QuantizationScheme/q5_0``), bit-identical to gguf-python's
/// `Q5_0.quantize_blocks`: the Q4_0 rounding with a fifth bit.
enum Q5_0Kernel {
    static func quantizeRow(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        var block = 0
        while block &* 32 < count {
            quantizeBlock(x + block &* 32, into: out + block &* 22)
            block &+= 1
        }
    }

    @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
        // numpy argmax: the first element of largest magnitude, with its sign.
        var amax = abs(x[0])
        var max = x[0]
        for index in 1..<32 where abs(x[index]) > amax {
            amax = abs(x[index])
            max = x[index]
        }
        let d = max / -16
        let id: Float = d != 0 ? 1 / d : 0
        out.storeFloat16(d, at: 0)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { q in
            for index in 0..<32 {
                // trunc(x * id + 16.5) as uint8, clipped to 31; NaN/inf (tiny blocks) give 0 as on x86.
                let shifted = x[index] * id + 16.5
                let value: UInt8 = shifted.isFinite && shifted >= 0 && shifted < 256 ? UInt8(shifted.rounded(.towardZero)) : 0
                q[index] = Swift.min(value, 31)
            }
            var high: UInt32 = 0
            for index in 0..<32 { high |= UInt32(q[index] >> 4) << UInt32(index) }
            out.storeBytes(of: high.littleEndian, toByteOffset: 2, as: UInt32.self)
            for index in 0..<16 {
                out.storeBytes(of: (q[index] & 0x0F) | ((q[index + 16] & 0x0F) << 4), toByteOffset: 6 + index, as: UInt8.self)
            }
        }
    }
}
