/// Shape arithmetic that never traps on values read from a file.
public enum Shape {
    /// The number of elements of `shape`, or `nil` when a dimension is negative or the product
    /// overflows `Int`. The empty shape (a 0-d tensor) has one element.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        // A zero dimension makes the count 0 even if a later product would overflow; we still
        // reject overflow above so that a shape is either valid as a whole or not.
        return count
    }

    /// Row-major (C order) strides, in elements.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for index in shape.indices.reversed() {
            strides[index] = running
            running = running &* max(shape[index], 1)
        }
        return strides
    }

    /// A shape as `[2, 3, 4]`.
    public static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
