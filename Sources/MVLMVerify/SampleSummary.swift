/// Mean, median, 99th percentile and maximum of a set of values (KL divergences per position).
///
/// Percentiles use linear interpolation between order statistics (NumPy's default `linear`
/// method): the p-th percentile of n sorted values is at rank `p/100 · (n − 1)`.
public struct SampleSummary: Sendable, Equatable, Codable {
    public var mean: Double
    public var median: Double
    public var p99: Double
    public var max: Double

    /// Summarizes `values`; all four are 0 for an empty set.
    public init(_ values: [Double]) {
        guard !values.isEmpty else {
            self.init(mean: 0, median: 0, p99: 0, max: 0)
            return
        }
        let sorted = values.sorted()
        self.init(
            mean: values.reduce(0, +) / Double(values.count), median: Self.percentile(sorted, 50),
            p99: Self.percentile(sorted, 99), max: sorted[sorted.count - 1])
    }

    public init(mean: Double, median: Double, p99: Double, max: Double) {
        self.mean = mean
        self.median = median
        self.p99 = p99
        self.max = max
    }

    /// The `p`-th percentile of ascending `sorted` values (linear interpolation).
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty)
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down)), upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
