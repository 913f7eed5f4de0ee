import MVLMCore
import MVLMQuant

extension QuantizeStreamer {
    /// One source matrix quantized with GPTQ: its rows widened to f32 in chunks into one buffer
    /// (`rows * rowLength` floats: GPTQ walks the columns of every row, so the whole matrix is in
    /// memory once), then ``GPTQ/quantize(matrix:rows:columns:factor:scheme:importance:search:into:)``
    /// with the input's factor and its mean squared activations as the scale search's importance.
    /// - Returns: `rows` row-major encoded rows.
    func quantizeWithGPTQ(
        _ source: Tensor, rows: Int, rowLength: Int, statistics: GPTQStatistics
    ) throws -> [UInt8] {
        var matrix = [Float]()
        matrix.reserveCapacity(rows * rowLength)
        try RowStreamer(tensor: source).rows(rows, rowLength: rowLength) { matrix.append(contentsOf: $0) }
        let factor = try statistics.factor()
        let rowBytes = try scheme.rowByteCount(elements: rowLength)
        var encoded = [UInt8](repeating: 0, count: rows * rowBytes)
        try matrix.withUnsafeBufferPointer { m in
            try statistics.meanSquares.withUnsafeBufferPointer { importance in
                try encoded.withUnsafeMutableBytes { out in
                    try GPTQ.quantize(
                        matrix: m, rows: rows, columns: rowLength, factor: factor, scheme: scheme, importance: importance,
                        search: search, into: out)
                }
            }
        }
        return encoded
    }
}
