import CMVLMKernels
import MVLMCore

extension QuantizationScheme {
    /// Quantizes one row.
    ///
    /// - Parameters:
    ///   - row: the weights; its count must be a positive multiple of ``blockElements`` and every
    ///     value finite.
    ///   - destination: at least ``rowByteCount(elements:)`` bytes; exactly that many are written.
    ///   - importance: optional per-column weights (same count as `row`, finite, >= 0), e.g. mean
    ///     squared calibration activations. Used only when `search` is true.
    ///   - search: false gives plain round-to-nearest (for GGUF types, the reference bytes); true runs
    ///     the error-minimizing search, which is never worse than round-to-nearest in weighted
    ///     squared error. For Q4_K and Q6_K the reference already searches: `search` alone changes
    ///     nothing; Q4_K/Q6_K with `search` and `importance` run llama.cpp's imatrix quantizers.
    ///   - rowIndex: named in error messages.
    /// - Throws: `MVLMError.invalidArgument` for a bad length, a too small destination, a NaN or
    ///   infinite weight (naming the row and element) or bad importance values.
    public func quantize(
        row: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawBufferPointer,
        importance: UnsafeBufferPointer<Float>? = nil, search: Bool = false, rowIndex: Int = 0
    ) throws {
        let byteCount = try rowByteCount(elements: row.count)
        guard destination.count >= byteCount else {
            throw MVLMError(
                .invalidArgument, "destination has \(destination.count) bytes, a row needs \(byteCount)",
                subject: "row \(rowIndex)")
        }
        try QuantizationScheme.checkFinite(row, rowIndex: rowIndex)
        if let importance {
            try QuantizationScheme.checkImportance(importance, count: row.count)
        }
        guard let x = row.baseAddress, let out = destination.baseAddress else { return }
        let weights = search ? importance?.baseAddress : nil
        quantizeUnchecked(x, count: row.count, importance: weights, into: out, search: search)
    }

    /// Dequantizes one row of `destination.count` weights from exactly ``rowByteCount(elements:)``
    /// bytes.
    ///
    /// - Throws: `MVLMError.invalidArgument` when the sizes do not fit.
    public func dequantize(from source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let byteCount = try rowByteCount(elements: destination.count)
        guard source.count == byteCount else {
            throw MVLMError(
                .invalidArgument, "\(destination.count) weights need \(byteCount) bytes, got \(source.count)",
                subject: name)
        }
        guard let src = source.baseAddress, let y = destination.baseAddress else { return }
        dequantizeUnchecked(src, count: destination.count, into: y)
    }

    /// Quantizes a row given as an array.
    public func quantize(_ row: [Float], importance: [Float]? = nil, search: Bool = false) throws -> [UInt8] {
        let byteCount = try rowByteCount(elements: row.count)
        var result = [UInt8](repeating: 0, count: byteCount)
        try row.withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBytes { out in
                if let importance {
                    try importance.withUnsafeBufferPointer { w in
                        try quantize(row: x, into: out, importance: w, search: search)
                    }
                } else {
                    try quantize(row: x, into: out, search: search)
                }
            }
        }
        return result
    }

    /// Dequantizes a row of `count` weights given as an array.
    public func dequantize(_ bytes: [UInt8], count: Int) throws -> [Float] {
        guard count > 0 else {
            throw MVLMError(.invalidArgument, "row length \(count) must be positive", subject: name)
        }
        var result = [Float](repeating: 0, count: count)
        try bytes.withUnsafeBytes { source in
            try result.withUnsafeMutableBufferPointer { try dequantize(from: source, into: $0) }
        }
        return result
    }

    // MARK: Unchecked kernels (sizes validated by the caller)

    func quantizeUnchecked(
        _ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>?, into out: UnsafeMutableRawPointer,
        search: Bool
    ) {
        switch self {
        case .q8_0:
            if search {
                Int8Kernel.quantizeBlocks32(x, importance: importance, count: count, into: out, search: true, q8_0Baseline: true)
            } else {
                Q8_0Kernel.quantizeRow(x, count: count, into: out)
            }
        case .q4_0:
            if search {
                Int8Kernel.quantizeQ4_0Searched(x, importance: importance, count: count, into: out)
            } else if mvlm_quantize_q4_0(x, Int64(count / 32), out) == 0 {
                Q4_0Kernel.quantizeRow(x, count: count, into: out)
            }
        case .q5_0:
            if search {
                Int8Kernel.quantizeQ5_0Searched(x, importance: importance, count: count, into: out)
            } else {
                Q5_0Kernel.quantizeRow(x, count: count, into: out)
            }
        case .q4_1:
            if search {
                AffineInt4Kernel.quantizeRow(
                    x, importance: importance, count: count, groupSize: 32, into: out, search: true, q4_1Baseline: true)
            } else {
                Q4_1Kernel.quantizeRow(x, count: count, into: out)
            }
        case .iq4_NL:
            // The reference already searches; importance (reaching here only with `search`) selects
            // llama.cpp's imatrix path.
            IQ4_NLKernel.quantizeRow(x, count: count, importance: importance, into: out)
        case .q4_K:
            // The vector kernels (CMVLMKernels, AVX2/AVX-512) produce the same bytes; the Swift
            // kernel is the portable path and the imatrix quantizer.
            if importance == nil, mvlm_quantize_q4_k(x, Int64(count / 256), out) != 0 { return }
            Q4_KKernel.quantizeRow(x, count: count, importance: importance, into: out)
        case .q6_K:
            if importance == nil, mvlm_quantize_q6_k(x, Int64(count / 256), out) != 0 { return }
            Q6_KKernel.quantizeRow(x, count: count, importance: importance, into: out)
        case .int8PerChannel:
            Int8Kernel.quantizePerChannel(x, importance: importance, count: count, into: out, search: search)
        case .int8Block32:
            Int8Kernel.quantizeBlocks32(x, importance: importance, count: count, into: out, search: search, q8_0Baseline: false)
        case .affineInt4(let groupSize):
            AffineInt4Kernel.quantizeRow(x, importance: importance, count: count, groupSize: groupSize, into: out, search: search)
        }
    }

    func dequantizeUnchecked(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        switch self {
        case .q8_0, .int8Block32: Q8_0Kernel.dequantizeRow(src, count: count, into: y)
        case .q4_0: Q4_0Kernel.dequantizeRow(src, count: count, into: y)
        case .q5_0: BlockDequantizer.dequantizeQ5_0(src, count: count, into: y)
        case .q4_1: Q4_1Kernel.dequantizeRow(src, count: count, into: y)
        case .iq4_NL: IQ4_NLKernel.dequantizeRow(src, count: count, into: y)
        case .q4_K: Q4_KKernel.dequantizeRow(src, count: count, into: y)
        case .q6_K: Q6_KKernel.dequantizeRow(src, count: count, into: y)
        case .int8PerChannel: Int8Kernel.dequantizePerChannel(src, count: count, into: y)
        case .affineInt4(let groupSize): Q4_1Kernel.dequantizeRow(src, count: count, into: y, blockElements: groupSize)
        }
    }

    // MARK: Input checks

    /// Throws naming the row and the first element that is NaN or infinite.
    static func checkFinite(_ row: UnsafeBufferPointer<Float>, rowIndex: Int) throws {
        guard let x = row.baseAddress else { return }
        let count = row.count
        if mvlm_all_finite(x, Int64(count)) != 0 { return }
        var index = 0
        var bad = false
        while index &+ 8 <= count {
            let v = UnsafeRawPointer(x + index).floats8(at: 0)
            // v - v is 0 for finite values and NaN for NaN and ±infinity.
            if SIMDMath.any(SIMDMath.notEqual(v - v, SIMD8())) { bad = true; break }
            index &+= 8
        }
        if !bad && index == count { return }
        while index < count {
            let value = x[index]
            if !value.isFinite {
                throw MVLMError(
                    .invalidArgument,
                    "element \(index) is \(value.isNaN ? "NaN" : "infinite"); quantization needs finite weights",
                    subject: "row \(rowIndex)")
            }
            index &+= 1
        }
    }

    static func checkImportance(_ importance: UnsafeBufferPointer<Float>, count: Int) throws {
        guard importance.count == count else {
            throw MVLMError(
                .invalidArgument, "importance has \(importance.count) values, the row has \(count)",
                subject: "importance")
        }
        for (index, value) in importance.enumerated() where !(value.isFinite && value >= 0) {
            throw MVLMError(
                .invalidArgument, "importance[\(index)] = \(value); weights must be finite and >= 0",
                subject: "importance")
        }
    }
}
