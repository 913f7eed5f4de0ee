/// The largest absolute difference between two equally long arrays, or `nil` when lengths differ.
public func maxAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float? {
    guard a.count == b.count else { return nil }
    var worst: Float = 0
    for index in a.indices { worst = max(worst, abs(a[index] - b[index])) }
    return worst
}

/// True when shapes match and every element satisfies |a - b| <= atol + rtol * |b|.
public func allClose(
    _ a: [Float], shape aShape: [Int], _ b: [Float], shape bShape: [Int],
    rtol: Float = 1e-5, atol: Float = 1e-6
) -> Bool {
    guard aShape == bShape, a.count == b.count else { return false }
    for index in a.indices where !(abs(a[index] - b[index]) <= atol + rtol * abs(b[index])) {
        return false
    }
    return true
}
