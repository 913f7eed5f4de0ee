/// A row (or block) of weights with optional per-element importance, read 8 lanes at a time.
///
/// Lanes past `count` read as value 0 with weight 0, so they never contribute to a sum; this lets
/// every loop run whole `SIMD8` steps over rows of any length.
struct RowView {
    let values: UnsafePointer<Float>
    let importance: UnsafePointer<Float>?
    let count: Int

    @inline(__always)
    func x(_ index: Int) -> SIMD8<Float> {
        if index &+ 8 <= count { return UnsafeRawPointer(values + index).floats8(at: 0) }
        var v = SIMD8<Float>()
        var lane = 0
        while index &+ lane < count { v[lane] = values[index &+ lane]; lane &+= 1 }
        return v
    }

    /// The importance weights (1 when none were given); 0 past the end.
    @inline(__always)
    func w(_ index: Int) -> SIMD8<Float> {
        if index &+ 8 <= count {
            guard let importance else { return SIMD8(repeating: 1) }
            return UnsafeRawPointer(importance + index).floats8(at: 0)
        }
        var v = SIMD8<Float>()
        var lane = 0
        while index &+ lane < count { v[lane] = importance?[index &+ lane] ?? 1; lane &+= 1 }
        return v
    }

    /// Σ w (x - y)² in Double, where `y` is the reconstruction.
    func exactError(_ y: UnsafePointer<Float>) -> Double {
        var sum: Double = 0
        for index in 0..<count {
            let diff = Double(values[index]) - Double(y[index])
            sum += Double(importance?[index] ?? 1) * diff * diff
        }
        return sum
    }

    /// The same row without importance weights.
    var unweighted: RowView { RowView(values: values, importance: nil, count: count) }
}
