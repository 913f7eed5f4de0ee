import MVLMCore

/// Decodes GGUF block types to f32, for every type a GGUF checkpoint we read may hold.
///
/// The arithmetic follows ggml's `dequantize_row_*` and gguf-python's `dequantize_blocks` operation
/// for operation, so the output is bitwise equal to theirs (tested on llama.cpp-made and random
/// blocks). Supported: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, and the toolkit's
/// INT8_B32 (the Q8_0 layout), AFFINE4_G32 (the Q4_1 layout), AFFINE4_G64 and AFFINE4_G128.
public enum BlockDequantizer {
    /// The block types ``dequantize(_:from:into:)`` decodes.
    public static let supportedTypes: [BlockType] = [
        .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K,
        .int8Block32, .affine4G32, .affine4G64, .affine4G128,
    ]

    /// True when `type` can be decoded.
    public static func supports(_ type: BlockType) -> Bool { supportedTypes.contains(type) }

    /// Decodes `destination.count` weights of `type` from `source`.
    ///
    /// - Parameters:
    ///   - type: the GGUF block type of `source`.
    ///   - source: exactly `destination.count / type.blockElements * type.blockBytes` bytes.
    ///   - destination: the weights; its count must be a multiple of `type.blockElements`.
    /// - Throws: `MVLMError.unsupported` for a type not in ``supportedTypes``; `.invalidArgument`
    ///   when the counts do not fit each other.
    public static func dequantize(
        _ type: BlockType, from source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard supports(type) else {
            throw MVLMError(.unsupported, "dequantizing \(type.name) is not supported", subject: type.name)
        }
        let count = destination.count
        guard count % type.blockElements == 0 else {
            throw MVLMError(
                .invalidArgument, "\(count) weights is not a multiple of the block size \(type.blockElements)",
                subject: type.name)
        }
        let (needed, overflow) = (count / type.blockElements).multipliedReportingOverflow(by: type.blockBytes)
        guard !overflow, source.count == needed else {
            throw MVLMError(
                .invalidArgument, "\(count) weights need \(needed) bytes, got \(source.count)", subject: type.name)
        }
        guard count > 0, let src = source.baseAddress, let y = destination.baseAddress else { return }
        switch type {
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
        default: break
        }
    }

    /// Decodes a whole byte array (convenience for tests and tools).
    public static func dequantize(_ type: BlockType, bytes: [UInt8], count: Int) throws -> [Float] {
        guard count >= 0 else {
            throw MVLMError(.invalidArgument, "negative weight count \(count)", subject: type.name)
        }
        var result = [Float](repeating: 0, count: count)
        try bytes.withUnsafeBytes { source in
            try result.withUnsafeMutableBufferPointer { try dequantize(type, from: source, into: $0) }
        }
        return result
    }
}
