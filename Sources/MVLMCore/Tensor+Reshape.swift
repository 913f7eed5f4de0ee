extension Tensor {
    /// The same elements viewed with another shape of equal element count (no copy when contiguous;
    /// a strided view is made contiguous first). A convolution filter `[O, C, k, k]` read as the
    /// matrix `[O, C k k]` is the typical use.
    /// - Throws: `MVLMError` (`.malformed`) when the element counts differ, or a block-quantized
    ///   tensor would have its rows regrouped (the last dimension of a block tensor is kept).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        if newShape == shape { return self }
        guard let count = Shape.elementCount(newShape), count == elementCount else {
            throw MVLMError(
                .malformed,
                "cannot view \(Shape.describe(shape)) as \(Shape.describe(newShape)): element counts differ")
        }
        if dtype.scalarByteSize == nil, newShape.last != shape.last {
            throw MVLMError(
                .malformed,
                "cannot view the \(dtype.name) tensor \(Shape.describe(shape)) as \(Shape.describe(newShape)): its rows are block-quantized")
        }
        let base = contiguous()
        return try Tensor(storage: base.storage, dtype: dtype, shape: newShape, byteOffset: base.byteOffset)
    }
}
