/// How the rows of a block-quantized matrix are arranged in its bytes.
public enum TensorLayout: String, Sendable, Hashable, CaseIterable {
    /// Blocks along each row, rows one after another (GGUF's layout).
    case rowMajor = "row_major"
    /// Groups of 16 rows interleaved in 4-byte units for the kernels (`RowInterleave`).
    case rows16
}
