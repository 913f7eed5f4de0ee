/// The row order llama.cpp's converter gives the query and key projections of a LLaMA
/// (`LlamaModel.permute` in `convert_hf_to_gguf.py`): within each head of `headDimension` rows,
/// the two halves that Hugging Face's rotate-half RoPE pairs up (row `i` with row `i + half`) are
/// interleaved, so ggml's RoPE, which rotates adjacent pairs, computes the same thing.
///
/// As a reshape: rows `[heads, 2, half]` become `[heads, half, 2]`. Output row `h·d + 2i + j`
/// is source row `h·d + j·half + i` (`d` the head dimension, `half = d/2`, `j` 0 or 1).
/// `MVLMModels.GGUFLlama` reads such files with interleaved RoPE instead of undoing this.
///
/// Rows are quantized independently, so permuting encoded rows equals permuting the float rows
/// before quantizing; the converter's sink permutes encoded bytes one head at a time.
public struct HeadRowPermutation: Sendable, Hashable {
    /// Rows per head (the head dimension); even.
    public var headDimension: Int

    /// - Parameters:
    ///   - rows: the projection's output rows.
    ///   - heads: the heads they form: attention heads for Q, key-value heads for K.
    /// - Returns: nil when the rows do not split into `heads` heads of an even size.
    public init?(rows: Int, heads: Int) {
        guard heads > 0, rows % heads == 0, (rows / heads) % 2 == 0, rows > 0 else { return nil }
        headDimension = rows / heads
    }

    /// The source row that output row `row` (counted within its head) comes from.
    public func sourceRow(forOutputRow row: Int) -> Int {
        (row % 2) * (headDimension / 2) + row / 2
    }

    /// Writes one head's rows (`headDimension` rows of `rowBytes` bytes each) from `source` in the
    /// permuted order into `output`.
    public func permuteHead(_ source: UnsafeRawBufferPointer, rowBytes: Int, into output: UnsafeMutableRawBufferPointer) {
        precondition(source.count == headDimension * rowBytes && output.count == source.count, "one head of rows")
        for row in 0..<headDimension {
            let from = sourceRow(forOutputRow: row) * rowBytes
            UnsafeMutableRawBufferPointer(rebasing: output[(row * rowBytes)..<((row + 1) * rowBytes)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[from..<(from + rowBytes)]))
        }
    }
}
