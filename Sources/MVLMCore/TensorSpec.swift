/// A tensor to be written: name, element type and shape (its bytes come separately, streamed).
public struct TensorSpec: Sendable, Hashable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}
