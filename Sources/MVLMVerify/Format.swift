import Foundation

/// Number formatting shared by the report's text and its one-line messages.
enum Format {
    /// Up to 4 significant digits, scientific below 1e-3.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == 0 { return "0" }
        if abs(value) < 1e-3 { return String(format: "%.3e", value) }
        return String(format: "%.4g", value)
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

    static func decibels(_ value: Double?) -> String {
        guard let value else { return "exact" }
        return value.isFinite ? String(format: "%.1f dB", value) : "-inf dB"
    }

    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
