/// Resolution of Python-style slice bounds.
public enum SliceBounds {
    /// `start..<end` within `0..<size` (negative values count from the end; nil end is `size`), or
    /// nil when it does not lie inside the axis or is reversed.
    public static func resolve(start: Int, end: Int?, size: Int) -> Range<Int>? {
        let lower = start < 0 ? size + start : start
        let upper = end.map { $0 < 0 ? size + $0 : $0 } ?? size
        guard lower >= 0, upper <= size, lower <= upper else { return nil }
        return lower..<upper
    }
}
