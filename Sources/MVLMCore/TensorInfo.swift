/// What a reader knows about a tensor before touching its data.
public struct TensorInfo: Hashable, Sendable {
    /// The name as the checkpoint stores it (flattened with `/` or `.` as the format does).
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Bytes the tensor's data occupies (for a strided view: its elements, not its storage).
    public var byteCount: Int
    /// The file that holds the data (its last path component for sharded checkpoints).
    public var file: String

    public init(name: String, dtype: DType, shape: [Int], byteCount: Int, file: String) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteCount = byteCount
        self.file = file
    }

    /// Element count (the product of `shape`; 1 for a 0-d tensor).
    public var elementCount: Int { Shape.elementCount(shape) ?? 0 }
}
