/// Limits a verification must meet: `mvlm verify --max-kld X --min-top1 Y`.
public struct VerificationBudget: Sendable, Equatable {
    /// The largest acceptable mean KL divergence (nats), if any.
    public var maxKLD: Double?
    /// The smallest acceptable top-1 agreement (a fraction, 0...1), if any.
    public var minTop1: Double?

    public init(maxKLD: Double? = nil, minTop1: Double? = nil) {
        self.maxKLD = maxKLD
        self.minTop1 = minTop1
    }

    /// One line per limit `comparison` exceeds (empty when it passes).
    public func violations(_ comparison: OutputComparison) -> [String] {
        var lines: [String] = []
        if let maxKLD, !(comparison.kld.mean <= maxKLD) {
            lines.append("mean KL divergence \(Format.number(comparison.kld.mean)) exceeds --max-kld \(Format.number(maxKLD))")
        }
        if let minTop1, !(comparison.top1Agreement >= minTop1) {
            lines.append("top-1 agreement \(Format.percent(comparison.top1Agreement)) is below --min-top1 \(Format.percent(minTop1))")
        }
        return lines
    }
}
