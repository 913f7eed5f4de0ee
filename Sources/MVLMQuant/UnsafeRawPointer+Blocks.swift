import MVLMCore

/// Unaligned little-endian loads and stores of the fields block formats use.
extension UnsafeRawPointer {
    @inline(__always)
    func floats8(at byteOffset: Int) -> SIMD8<Float> {
        loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float>.self)
    }

    @inline(__always)
    func float16(at byteOffset: Int) -> Float {
        HalfPrecision.float(fromFloat16Bits: UInt16(littleEndian: loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self)))
    }
}

extension UnsafeMutableRawPointer {
    @inline(__always)
    func storeFloat16(_ value: Float, at byteOffset: Int) {
        storeBytes(of: HalfPrecision.float16Bits(from: value).littleEndian, toByteOffset: byteOffset, as: UInt16.self)
    }

    @inline(__always)
    func storeFloats8(_ value: SIMD8<Float>, at byteOffset: Int) {
        storeBytes(of: value, toByteOffset: byteOffset, as: SIMD8<Float>.self)
    }
}
