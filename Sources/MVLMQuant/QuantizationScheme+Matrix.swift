import Dispatch
import MVLMCore

extension QuantizationScheme {
    /// Quantizes a row-major `[rows, columns]` matrix, rows in parallel
    /// (`DispatchQueue.concurrentPerform` over disjoint output ranges).
    ///
    /// - Parameters:
    ///   - matrix: `rows * columns` floats.
    ///   - destination: at least `rows * rowByteCount(elements: columns)` bytes.
    ///   - importance: optional per-column weights (`columns` values), shared by all rows.
    /// - Throws: as ``quantize(row:into:importance:search:rowIndex:)``; a non-finite weight names
    ///   the first bad row (all rows are checked before any is written).
    public func quantize(
        matrix: UnsafeBufferPointer<Float>, rows: Int, columns: Int, into destination: UnsafeMutableRawBufferPointer,
        importance: UnsafeBufferPointer<Float>? = nil, search: Bool = false
    ) throws {
        let rowBytes = try rowByteCount(elements: columns)
        let (elements, overflow) = rows.multipliedReportingOverflow(by: columns)
        let (totalBytes, overflow2) = rows.multipliedReportingOverflow(by: rowBytes)
        guard rows >= 0, !overflow, !overflow2, matrix.count == elements else {
            throw MVLMError(
                .invalidArgument, "matrix has \(matrix.count) floats, expected \(rows) x \(columns)", subject: name)
        }
        guard destination.count >= totalBytes else {
            throw MVLMError(
                .invalidArgument, "destination has \(destination.count) bytes, the matrix needs \(totalBytes)",
                subject: name)
        }
        if let importance { try QuantizationScheme.checkImportance(importance, count: columns) }
        guard rows > 0, let x = matrix.baseAddress, let out = destination.baseAddress else { return }
        for row in 0..<rows {
            try QuantizationScheme.checkFinite(UnsafeBufferPointer(start: x + row &* columns, count: columns), rowIndex: row)
        }
        let weights = search ? importance?.baseAddress : nil
        nonisolated(unsafe) let input = x
        nonisolated(unsafe) let output = out
        nonisolated(unsafe) let w = weights
        // Chunks of rows keep per-task overhead small; a few chunks per core balance the load.
        let chunkCount = Swift.min(rows, 64)
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let start = rows &* chunk / chunkCount, end = rows &* (chunk &+ 1) / chunkCount
            for row in start..<end {
                quantizeUnchecked(
                    input + row &* columns, count: columns, importance: w, into: output + row &* rowBytes, search: search)
            }
        }
    }

    /// Quantizes a row-major matrix given as an array; returns `rows * rowByteCount(columns)` bytes.
    public func quantize(
        matrix: [Float], rows: Int, columns: Int, importance: [Float]? = nil, search: Bool = false
    ) throws -> [UInt8] {
        let rowBytes = try rowByteCount(elements: columns)
        let (total, overflow) = Swift.max(rows, 0).multipliedReportingOverflow(by: rowBytes)
        guard !overflow else {
            throw MVLMError(.outOfBounds, "\(rows) rows of \(rowBytes) bytes overflow", subject: name)
        }
        var result = [UInt8](repeating: 0, count: total)
        try matrix.withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBytes { out in
                if let importance {
                    try importance.withUnsafeBufferPointer {
                        try quantize(matrix: x, rows: rows, columns: columns, into: out, importance: $0, search: search)
                    }
                } else {
                    try quantize(matrix: x, rows: rows, columns: columns, into: out, search: search)
                }
            }
        }
        return result
    }

    /// Dequantizes a row-major matrix of `rows` rows of `columns` weights.
    public func dequantize(matrix bytes: [UInt8], rows: Int, columns: Int) throws -> [Float] {
        let rowBytes = try rowByteCount(elements: columns)
        let (elements, overflow) = rows.multipliedReportingOverflow(by: columns)
        let (total, overflow2) = rows.multipliedReportingOverflow(by: rowBytes)
        guard rows >= 0, !overflow, !overflow2, bytes.count == total else {
            throw MVLMError(
                .invalidArgument, "\(rows) x \(columns) weights need \(total) bytes, got \(bytes.count)", subject: name)
        }
        var result = [Float](repeating: 0, count: elements)
        bytes.withUnsafeBytes { source in
            result.withUnsafeMutableBufferPointer { y in
                guard let src = source.baseAddress, let dst = y.baseAddress else { return }
                for row in 0..<rows {
                    dequantizeUnchecked(src + row &* rowBytes, count: columns, into: dst + row &* columns)
                }
            }
        }
        return result
    }
}
