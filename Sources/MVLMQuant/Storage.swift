import MVLMCore

/// Rounding of stored parameters.
enum Storage {
    /// Rounds to f16 (nearest even), saturating at ±65504 instead of overflowing to infinity.
    @inline(__always)
    static func half(_ value: Float) -> Float {
        let clamped = Swift.min(Swift.max(value, -65504), 65504)
        return HalfPrecision.float(fromFloat16Bits: HalfPrecision.float16Bits(from: clamped))
    }
}
