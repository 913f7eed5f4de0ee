import MVLMCore

/// The static type of a value in a graph: element type and dimensions.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var dimensions: [Dimension]

    public init(_ dtype: DType, _ dimensions: [Dimension]) {
        self.dtype = dtype
        self.dimensions = dimensions
    }

    /// A type whose dimensions are all fixed.
    public init(_ dtype: DType, shape: [Int]) {
        self.init(dtype, shape.map { .fixed($0) })
    }

    public var rank: Int { dimensions.count }

    /// The concrete shape with `bindings` applied, or nil when a symbol is unbound.
    public func shape(_ bindings: [String: Int] = [:]) -> [Int]? {
        var shape: [Int] = []
        shape.reserveCapacity(dimensions.count)
        for dimension in dimensions {
            guard let size = dimension.resolved(bindings) else { return nil }
            shape.append(size)
        }
        return shape
    }

    /// `f32[T, 64]`: the dtype in lower case and the dimensions.
    public var description: String {
        dtype.name.lowercased() + "[" + dimensions.map(\.description).joined(separator: ", ") + "]"
    }
}
