import MVLMCore

/// Writes a tensor cast to a float type (`StorageType.float`: F32, F16 with round-to-nearest-even,
/// BF16), from any source dtype the converter widens (floats and block types).
struct CastStreamer {
    /// F32, F16 or BF16.
    var dtype: DType

    func stream(_ decision: TensorDecision, sources: [Tensor], into writer: some ConversionSink, advance: (Int) -> Void) throws {
        try writer.beginTensor(decision, dtype: dtype)
        for source in sources {
            let rowLength = decision.rowLength(of: source)
            try RowStreamer(tensor: source).rows(source.elementCount / rowLength, rowLength: rowLength) { floats in
                let count = floats.count
                switch dtype {
                case .float32:
                    try writer.write(UnsafeRawBufferPointer(floats))
                    advance(count * 4)
                default:
                    var narrow = [UInt16](repeating: 0, count: count)
                    narrow.withUnsafeMutableBufferPointer {
                        if dtype == .float16 { HalfPrecision.convertFloatToFloat16(floats, into: $0) } else {
                            HalfPrecision.convertFloatToBFloat16(floats, into: $0)
                        }
                    }
                    try narrow.withUnsafeBytes { try writer.write($0) }
                    advance(count * 2)
                }
            }
        }
        try writer.endTensor()
    }
}
