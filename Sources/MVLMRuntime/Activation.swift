/// A float32 tensor that flows between graph nodes: a row-major shape and its values.
public struct Activation: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    /// Wraps `values`; `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// The size of the last axis (1 for a scalar).
    public var lastDimension: Int { shape.last ?? 1 }

    /// The number of rows when viewed as `[rows, lastDimension]`.
    public var rowCount: Int { lastDimension == 0 ? 0 : values.count / lastDimension }

    /// Row `index` of the `[rows, lastDimension]` view.
    public func row(_ index: Int) -> ArraySlice<Float> {
        values[(index * lastDimension)..<((index + 1) * lastDimension)]
    }
}
