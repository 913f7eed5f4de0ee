extension Tensor {
    /// The elements widened to `Float`, row-major.
    ///
    /// Floating-point types convert exactly (f64 rounds to nearest); integer and bool types convert
    /// by value. Block-quantized types need their format's dequantizer and throw here.
    /// - Throws: `MVLMError` (`.unsupported`) for block and 8-bit float types.
    public func floatValues() throws -> [Float] {
        let count = elementCount
        return try withUnsafeBytes { bytes -> [Float] in
            try [Float](unsafeUninitializedCapacity: count) { output, initialized in
                defer { initialized = count }
                switch dtype {
                case .float32:
                    if count > 0 { output.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: count * 4) {
                        $0.update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count * 4)
                    } }
                case .float16:
                    HalfPrecision.convertFloat16ToFloat(
                        bytes.bindMemory(to: UInt16.self), into: output)
                case .bfloat16:
                    HalfPrecision.convertBFloat16ToFloat(
                        bytes.bindMemory(to: UInt16.self), into: output)
                case .float64: fill(output, bytes, Double.self) { Float($0) }
                case .int64: fill(output, bytes, Int64.self) { Float($0) }
                case .int32: fill(output, bytes, Int32.self) { Float($0) }
                case .int16: fill(output, bytes, Int16.self) { Float($0) }
                case .int8: fill(output, bytes, Int8.self) { Float($0) }
                case .uint64: fill(output, bytes, UInt64.self) { Float($0) }
                case .uint32: fill(output, bytes, UInt32.self) { Float($0) }
                case .uint16: fill(output, bytes, UInt16.self) { Float($0) }
                case .uint8: fill(output, bytes, UInt8.self) { Float($0) }
                case .bool: fill(output, bytes, UInt8.self) { $0 == 0 ? 0 : 1 }
                case .float8E4M3, .float8E5M2, .block:
                    initialized = 0
                    throw MVLMError(
                        .unsupported, "cannot widen \(dtype.name) to F32 without its dequantizer")
                }
            }
        }
    }
}

@inline(__always)
private func fill<T>(
    _ output: UnsafeMutableBufferPointer<Float>, _ bytes: UnsafeRawBufferPointer, _: T.Type,
    _ convert: (T) -> Float
) {
    let stride = MemoryLayout<T>.size
    for index in 0..<output.count {
        output[index] = convert(bytes.loadUnaligned(fromByteOffset: index &* stride, as: T.self))
    }
}
