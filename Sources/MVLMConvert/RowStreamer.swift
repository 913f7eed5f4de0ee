import Dispatch
import Foundation
import MVLMCore
import MVLMFileIO
import MVLMQuant

/// Reads a source tensor for the converter, a chunk at a time, and tells the kernel to drop the
/// source pages each chunk used (`PageAdvice`), so resident memory stays at the chunk size
/// whatever the model's size. The one place the converter touches the page cache.
struct RowStreamer {
    /// The tensor to read (contiguous).
    var tensor: Tensor

    /// Drops every page of `tensor` (once its conversion is done).
    static func release(_ tensor: Tensor) {
        PageAdvice.release(tensor.storage)
    }

    /// Hands `body` the tensor's bytes as stored, `chunkBytes` at a time.
    func bytes(chunkBytes: Int = 16 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try tensor.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + chunkBytes, bytes.count)
                try body(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                PageAdvice.release(tensor.storage, bytes: (tensor.byteOffset + offset)..<(tensor.byteOffset + end))
                offset = end
            }
        }
    }

    /// Hands `body` the tensor's rows widened to f32, a chunk of rows at a time. Chunks hold a
    /// multiple of `rowGroup` rows (except a last, shorter one) and about
    /// `ConversionPlan.chunkElements` elements.
    func rows(
        _ rows: Int, rowLength: Int, rowGroup: Int = 1, _ body: (UnsafeBufferPointer<Float>) throws -> Void
    ) throws {
        let rowsPerChunk = max(rowGroup, ConversionPlan.chunkElements / rowLength / rowGroup * rowGroup)
        var buffer = [Float](repeating: 0, count: min(rows, rowsPerChunk) * rowLength)
        try tensor.withUnsafeBytes { bytes in
            var row = 0
            while row < rows {
                let count = min(rowsPerChunk, rows - row)
                try buffer.withUnsafeMutableBufferPointer { out in
                    try Self.widenInParallel(bytes, dtype: tensor.dtype, rowLength: rowLength, firstRow: row, rows: count, into: out)
                }
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<(count * rowLength)])) }
                // Drop the source pages of these rows: streaming keeps RSS at the chunk size.
                let rowBytes = tensor.dtype.byteCount(shape: [rowLength]) ?? 0
                PageAdvice.release(
                    tensor.storage, bytes: (tensor.byteOffset + row * rowBytes)..<(tensor.byteOffset + (row + count) * rowBytes))
                row += count
            }
        }
    }

    /// `RowWidening.widen` on two halves of the rows at once (widening f16 runs at memory speed on
    /// one core; the conversion's serial part).
    static func widenInParallel(
        _ bytes: UnsafeRawBufferPointer, dtype: DType, rowLength: Int, firstRow: Int, rows: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws {
        let parts = rows * rowLength >= 1 << 16 && rows >= 2 ? 2 : 1
        guard parts > 1 else {
            return try RowWidening.widen(bytes, dtype: dtype, rowLength: rowLength, firstRow: firstRow, rows: rows, into: output)
        }
        let split = rows / 2
        let failures = UncheckedFailures()
        let shared = UncheckedWiden(bytes: bytes, output: output)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let begin = part == 0 ? 0 : split, end = part == 0 ? split : rows
            do {
                try RowWidening.widen(
                    shared.bytes, dtype: dtype, rowLength: rowLength, firstRow: firstRow + begin, rows: end - begin,
                    into: UnsafeMutableBufferPointer(rebasing: shared.output[(begin * rowLength)..<(end * rowLength)]))
            } catch {
                failures.record(error)
            }
        }
        if let error = failures.first { throw error }
    }
}

extension TensorDecision {
    /// The row length a source part of this decision is streamed with: rows run along the last
    /// dimension; a vector (also a fused one) is one row per source.
    func rowLength(of source: Tensor) -> Int {
        shape.count <= 1 ? max(source.elementCount, 1) : max(shape.last ?? 1, 1)
    }
}

/// The buffers `widenInParallel` shares between its two halves (disjoint rows).
private struct UncheckedWiden: @unchecked Sendable {
    var bytes: UnsafeRawBufferPointer
    var output: UnsafeMutableBufferPointer<Float>
}

/// The first error of concurrent work.
private final class UncheckedFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func record(_ error: Error) { lock.withLock { errors.append(error) } }
    var first: Error? { lock.withLock { errors.first } }
}
