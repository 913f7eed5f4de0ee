import MVLMCore

/// A tensor as the GGUF tensor-info table describes it, after validation.
///
/// GGUF stores dimensions innermost first (ggml's `ne`: `ne[0]` is the row length). `dimensions`
/// keeps that order; `shape` is the reverse, the row-major order numpy, PyTorch and the rest of
/// the toolkit use. A `[vocab, hidden]` embedding matrix is stored as `ne = [hidden, vocab]`.
public struct GGUFTensorInfo: Hashable, Sendable {
    /// The tensor's name.
    public let name: String
    /// The dimensions as stored, innermost first (`ne[0]`, `ne[1]`, ...).
    public let dimensions: [Int]
    /// The raw `ggml_type` id from the file (0 = F32, 1 = F16, 2 = Q4_0, ...).
    public let ggmlType: UInt32
    /// The element type: a scalar for F32/F16/BF16/F64/I8..I64, `.block(_)` for quantized types.
    public let dtype: DType
    /// Offset of the data from the start of the data section, in bytes (as stored).
    public let offset: Int
    /// Offset of the data from the start of the file, in bytes.
    public let fileOffset: Int
    /// Bytes the data occupies (whole blocks for quantized types).
    public let byteCount: Int

    /// Creates a tensor info (the reader makes these after validating them).
    public init(
        name: String, dimensions: [Int], ggmlType: UInt32, dtype: DType, offset: Int,
        fileOffset: Int, byteCount: Int
    ) {
        self.name = name
        self.dimensions = dimensions
        self.ggmlType = ggmlType
        self.dtype = dtype
        self.offset = offset
        self.fileOffset = fileOffset
        self.byteCount = byteCount
    }

    /// The shape in row-major order (the reverse of `dimensions`), as gguf-py's tensor data and
    /// numpy show it.
    public var shape: [Int] { dimensions.reversed() }

    /// The number of elements (1 for a tensor with no dimensions).
    public var elementCount: Int { Shape.elementCount(dimensions) ?? 0 }

    /// The file byte range of the data.
    public var fileRange: Range<Int> { fileOffset..<(fileOffset + byteCount) }
}
