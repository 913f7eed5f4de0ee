import MVLMCore

/// Decodes GGUF block types to f32, for every type a GGUF checkpoint we read may hold.
///
/// The arithmetic follows ggml's `dequantize_row_*` and gguf-python's `dequantize_blocks` operation
/// for operation, so the output is bitwise equal to theirs (tested on llama.cpp-made and random
/// blocks). Supported: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, and the toolkit's
/// INT8_B32 (the Q8_0 layout), AFFINE4_G32 (the Q4_1 layout), AFFINE4_G64, AFFINE4_G128 and INT8_PC
/// (whose f32 scale heads every row, so its calls say how long a row is).
public enum BlockDequantizer {
    /// The block types ``dequantize(_:from:into:)`` decodes.
    public static let supportedTypes: [BlockType] = [
        .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_NL,
        .int8Block32, .affine4G32, .affine4G64, .affine4G128, .int8PerChannel,
    ]

    /// True when `type` can be decoded.
    public static func supports(_ type: BlockType) -> Bool { supportedTypes.contains(type) }

    /// Decodes `destination.count` weights of `type` from `source`.
    ///
    /// - Parameters:
    ///   - type: the block type of `source`.
    ///   - source: exactly `rows × type.rowByteCount(elements: rowLength)` bytes, where
    ///     `rows = destination.count / rowLength`.
    ///   - destination: the weights; a whole number of rows.
    ///   - rowLength: weights per row (default: all of `destination`, one row). Only a type with a
    ///     row header (INT8_PC) depends on it; it must be a multiple of `type.blockElements`.
    /// - Throws: `MVLMError.unsupported` for a type not in ``supportedTypes``; `.invalidArgument`
    ///   when the counts do not fit each other.
    public static func dequantize(
        _ type: BlockType, from source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>,
        rowLength: Int? = nil
    ) throws {
        guard supports(type) else {
            throw MVLMError(.unsupported, "dequantizing \(type.name) is not supported", subject: type.name)
        }
        let count = destination.count
        let rowLength = rowLength ?? count
        guard count == 0 || (rowLength > 0 && count % rowLength == 0), let rowBytes = type.rowByteCount(elements: rowLength) else {
            throw MVLMError(
                .invalidArgument,
                "\(count) weights in rows of \(rowLength) is not a whole number of rows of \(type.blockElements)-weight blocks",
                subject: type.name)
        }
        let rows = count == 0 ? 0 : count / rowLength
        let (needed, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
        guard !overflow, source.count == needed else {
            throw MVLMError(
                .invalidArgument, "\(count) weights need \(needed) bytes, got \(source.count)", subject: type.name)
        }
        guard count > 0, let src = source.baseAddress, let y = destination.baseAddress else { return }
        switch type {
        case .int8PerChannel:
            for row in 0..<rows {
                Int8Kernel.dequantizePerChannel(src + row * rowBytes, count: rowLength, into: y + row * rowLength)
            }
        case .q8_0, .int8Block32: Q8_0Kernel.dequantizeRow(src, count: count, into: y)
        case .affine4G32: Q4_1Kernel.dequantizeRow(src, count: count, into: y)
        case .affine4G64: QuantizationScheme.affineInt4(groupSize: 64).dequantizeUnchecked(src, count: count, into: y)
        case .affine4G128: QuantizationScheme.affineInt4(groupSize: 128).dequantizeUnchecked(src, count: count, into: y)
        case .q4_0: Q4_0Kernel.dequantizeRow(src, count: count, into: y)
        case .q4_1: Q4_1Kernel.dequantizeRow(src, count: count, into: y)
        case .q5_0: dequantizeQ5_0(src, count: count, into: y)
        case .q5_1: dequantizeQ5_1(src, count: count, into: y)
        case .q2_K: dequantizeQ2_K(src, count: count, into: y)
        case .q3_K: dequantizeQ3_K(src, count: count, into: y)
        case .q4_K: Q4_KKernel.dequantizeRow(src, count: count, into: y)
        case .q5_K: dequantizeQ5_K(src, count: count, into: y)
        case .q6_K: Q6_KKernel.dequantizeRow(src, count: count, into: y)
        case .iq4_NL: IQ4_NLKernel.dequantizeRow(src, count: count, into: y)
        default: break
        }
    }

    /// Decodes a whole byte array (convenience for tests and tools).
    public static func dequantize(_ type: BlockType, bytes: [UInt8], count: Int, rowLength: Int? = nil) throws -> [Float] {
        guard count >= 0 else {
            throw MVLMError(.invalidArgument, "negative weight count \(count)", subject: type.name)
        }
        var result = [Float](repeating: 0, count: count)
        try bytes.withUnsafeBytes { source in
            try result.withUnsafeMutableBufferPointer { try dequantize(type, from: source, into: $0, rowLength: rowLength) }
        }
        return result
    }
}
