import MVLMCore
import MVLMQuant

/// Writes a tensor quantized with a scheme (`StorageType.quantized`): rows widened to f32 a chunk
/// at a time, quantized (with the scale search and the calibration's importance weights when
/// given), and written — repacked to rows16 when the layout pass chose it — on a background queue
/// while the next chunk is quantized.
struct QuantizeStreamer {
    var scheme: QuantizationScheme
    /// Whether the quantizers run their error-minimizing scale search.
    var search: Bool
    /// Per source tensor, the importance of each input column.
    var importance: [String: [Float]]
    /// Per source tensor, the GPTQ statistics of its input (`mvlm convert --gptq`): such a matrix is
    /// quantized whole with error feedback (QuantizeStreamer+GPTQ.swift).
    var gptq: [String: GPTQStatistics] = [:]

    func stream(_ decision: TensorDecision, sources: [Tensor], into writer: some ConversionSink, advance: (Int) -> Void) throws {
        guard case .block(let block) = try StorageType.quantized(scheme).outputDType(sourceDType: decision.sourceDType) else {
            throw MVLMError(.unsupported, "\(scheme.name) cannot be stored in an .mvlm file yet")
        }
        try writer.beginTensor(decision, dtype: .block(block))
        let rows16 = decision.layout == .rows16
        let background = BackgroundWriter(sink: writer)
        for (sourceName, source) in zip(decision.sourceNames, sources) {
            let rowLength = decision.rowLength(of: source)
            let rowBytes = try scheme.rowByteCount(elements: rowLength)
            let weights = importance[sourceName]
            let rowGroup = rows16 ? RowInterleave.groupRows : 1
            if let statistics = gptq[sourceName], statistics.columns == rowLength, scheme.hasLinearLevels {
                let rows = source.elementCount / rowLength
                let encoded = try quantizeWithGPTQ(source, rows: rows, rowLength: rowLength, statistics: statistics)
                if rows16 {
                    try background.submit(encoded) { encoded in
                        Self.interleaved(encoded, block, rows: rows, rowBytes: rowBytes)
                    }
                } else {
                    try background.submit(encoded)
                }
                advance(encoded.count)
                continue
            }
            try RowStreamer(tensor: source).rows(source.elementCount / rowLength, rowLength: rowLength, rowGroup: rowGroup) { floats in
                let chunkRows = floats.count / rowLength
                // Every byte is written by the quantizer (no zero fill first).
                var encoded = [UInt8](unsafeUninitializedCapacity: chunkRows * rowBytes) { _, count in
                    count = chunkRows * rowBytes
                }
                try encoded.withUnsafeMutableBytes { out in
                    if let weights {
                        try weights.withUnsafeBufferPointer {
                            try scheme.quantize(matrix: floats, rows: chunkRows, columns: rowLength, into: out, importance: $0, search: search)
                        }
                    } else {
                        try scheme.quantize(matrix: floats, rows: chunkRows, columns: rowLength, into: out, search: search)
                    }
                }
                // Written (and, for rows16, repacked: the layout pass checked that every part
                // holds whole groups of 16 rows, and chunks are cut at multiples of 16 rows) on
                // the background queue while the next chunk is widened and quantized.
                if rows16 {
                    try background.submit(encoded) { encoded in
                        Self.interleaved(encoded, block, rows: chunkRows, rowBytes: rowBytes)
                    }
                } else {
                    try background.submit(encoded)
                }
                advance(encoded.count)
            }
        }
        try background.drain()
        try writer.endTensor()
    }

    /// `rows` row-major rows of `block` blocks in the rows16 layout.
    static func interleaved(_ encoded: [UInt8], _ block: BlockType, rows: Int, rowBytes: Int) -> [UInt8] {
        var packed = [UInt8](repeating: 0, count: encoded.count)
        encoded.withUnsafeBytes { source in
            packed.withUnsafeMutableBytes { RowInterleave.interleave(block, rows: rows, rowBytes: rowBytes, from: source, into: $0) }
        }
        return packed
    }
}
