import MVLMQuant
import MVLMCore
import MVLMFileIO
import MVLMModelFile

/// How well each tensor of an `.mvlm` file reproduces the source tensor it was made from.
///
/// For every tensor entry, the stored values (dequantized for block types) are compared with the
/// source tensors its manifest names (`source`: whole tensors, or row ranges of a fused one), a
/// chunk of rows at a time, so memory stays bounded whatever the model's size. Results are by
/// source name, the names users downloaded.
public enum WeightReconstruction {
    /// One source tensor's reconstruction.
    public struct Entry: Sendable, Equatable {
        /// The source tensor's name.
        public var name: String
        /// The type it is stored as in the file (`Q4_K`, `F16`, ...).
        public var storedAs: String
        /// Its signal-to-noise ratio (sums over all its elements).
        public var snr: SignalToNoise
        public var elementCount: Int
    }

    /// Rows compared per step (bounded by about 4 Mi elements).
    static let chunkElements = 1 << 22

    /// Measures every tensor of `file` against `source`.
    /// - Parameter progress: called after each file tensor with (tensors done, tensors in all).
    /// - Throws: `MVLMError` for a tensor whose checksum fails, a source tensor that is missing or
    ///   of a different size than the file records, or a dtype that cannot be widened.
    public static func measure(
        file: ModelFileReader, source: some TensorReader, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> [Entry] {
        var entries: [Entry] = []
        let table = file.manifest.tensors
        for (index, entry) in table.enumerated() {
            let mapped = try file.verifiedTensor(named: entry.name)
            defer { PageAdvice.release(mapped.storage) }
            // A rows16 matrix is de-interleaved once (one tensor's copy), not per chunk of rows.
            let stored = mapped.contiguous()
            let rowLength = entry.shape.count >= 2 ? entry.shape.last! : max(stored.elementCount, 1)
            let rows = stored.elementCount / max(rowLength, 1)
            // A vector (norm scale, bias; fused ones hold their parts as element ranges) is read once.
            let vector = entry.shape.count < 2 ? try widen(stored, rowLength: rowLength, rows: 0..<1) : []
            for provenance in entry.source {
                guard let part = ModelManifest.SourcePart(provenance) else {
                    throw MVLMError(.malformed, "has a source entry that is neither a name nor {name, rows}", file: file.path, subject: "tensor '\(entry.name)'")
                }
                let name = part.name
                let range = part.rows ?? 0..<rows
                let original = try source.tensor(named: name).contiguous()
                defer { PageAdvice.release(original.storage) }
                var snr = SignalToNoise(name: name)
                if entry.shape.count < 2 {
                    guard range.upperBound <= vector.count || range == 0..<rows else {
                        throw MVLMError(.malformed, "source rows \(range) lie outside its \(vector.count) elements", file: file.path, subject: "tensor '\(entry.name)'")
                    }
                    let slice = range == 0..<rows ? 0..<vector.count : range
                    let reference = try widen(original, rowLength: max(original.elementCount, 1), rows: 0..<1)
                    guard reference.count == slice.count else { throw mismatch(entry.name, name, reference.count, slice.count, file.path) }
                    reference.withUnsafeBufferPointer { r in
                        vector.withUnsafeBufferPointer { c in snr.accumulate(reference: r, candidate: UnsafeBufferPointer(rebasing: c[slice])) }
                    }
                } else {
                    guard range.upperBound <= rows, original.elementCount == range.count * rowLength else {
                        throw mismatch(entry.name, name, original.elementCount, range.count * rowLength, file.path)
                    }
                    let step = max(1, chunkElements / rowLength)
                    var row = 0
                    while row < range.count {
                        let count = min(step, range.count - row)
                        let candidate = try widen(stored, rowLength: rowLength, rows: (range.lowerBound + row)..<(range.lowerBound + row + count))
                        let reference = try widen(original, rowLength: rowLength, rows: row..<(row + count))
                        reference.withUnsafeBufferPointer { r in candidate.withUnsafeBufferPointer { snr.accumulate(reference: r, candidate: $0) } }
                        row += count
                    }
                }
                entries.append(Entry(name: name, storedAs: entry.dtype, snr: snr, elementCount: original.elementCount))
            }
            progress(index + 1, table.count)
        }
        return entries
    }

    /// The worst `count` entries by SNR (exact ones last, never among the worst).
    public static func worst(_ entries: [Entry], count: Int) -> [Entry] {
        Array(entries.filter { $0.snr.decibels != nil }.sorted { $0.snr.decibels! < $1.snr.decibels! }.prefix(count))
    }

    static func widen(_ tensor: Tensor, rowLength: Int, rows: Range<Int>) throws -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * rowLength)
        try tensor.withUnsafeBytes { bytes in
            try out.withUnsafeMutableBufferPointer {
                try RowWidening.widen(bytes, dtype: tensor.dtype, rowLength: rowLength, firstRow: rows.lowerBound, rows: rows.count, into: $0)
            }
        }
        return out
    }

    static func mismatch(_ entry: String, _ source: String, _ have: Int, _ expected: Int, _ path: String) -> MVLMError {
        MVLMError(
            .invalidArgument,
            "source tensor '\(source)' has \(have) elements, the file stores \(expected) for it: the source is not the checkpoint this file was converted from",
            file: path, subject: "tensor '\(entry)'")
    }
}
