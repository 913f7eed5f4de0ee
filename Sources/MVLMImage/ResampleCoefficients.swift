/// The weights of one resampling pass along one axis, computed as Pillow's `precompute_coeffs`
/// and `normalize_coeffs_8bpc` compute them (`src/libImaging/Resample.c`), so that the result is
/// bit-identical to `Image.resize`:
///
/// - `scale = inputSize / outputSize`; `filterScale = max(scale, 1)` (downscaling widens the
///   filter: antialiasing); `support = filter.support * filterScale`.
/// - Output pixel `i` is centred at `(i + 0.5) * scale`; it reads inputs
///   `xmin = max(Int(center - support + 0.5), 0) ..< min(Int(center + support + 0.5), inputSize)`
///   (`Int(_:)` truncates as C's cast does), weighted by
///   `filter((x - center + 0.5) / filterScale)`, normalized to sum 1 in `Double`.
/// - Each weight becomes fixed point with 22 fraction bits (Pillow's `PRECISION_BITS = 32 - 8 - 2`),
///   rounded half away from zero and truncated: `Int32(w * 2^22 ± 0.5)`.
/// - A pixel is `(2^21 + Σ input * weight) >> 22` in 32-bit integers, clipped to 0...255.
struct ResampleCoefficients: Sendable {
    static let precisionBits = 22

    /// The output size along the axis.
    let outputSize: Int
    /// Weights per output pixel (the widest window; unused tail entries are 0).
    let kernelSize: Int
    /// First input index of each output pixel.
    let first: [Int]
    /// Number of inputs of each output pixel.
    let count: [Int]
    /// `outputSize * kernelSize` fixed-point weights.
    let weights: [Int32]

    init(inputSize: Int, outputSize: Int, filter: ResampleFilter) {
        precondition(inputSize > 0 && outputSize > 0, "resampling needs positive sizes")
        // Pillow's box is float[4]; (in1 - in0) is computed in float, then widened.
        let in0: Float = 0
        let in1 = Float(inputSize)
        let scale = Double(in1 - in0) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        let inverseFilterScale = 1 / filterScale

        var first = [Int](repeating: 0, count: outputSize)
        var count = [Int](repeating: 0, count: outputSize)
        var weights = [Int32](repeating: 0, count: outputSize * kernelSize)
        var window = [Double](repeating: 0, count: kernelSize)
        let one = Double(1 << Self.precisionBits)
        for output in 0..<outputSize {
            let center = Double(in0) + (Double(output) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inputSize) - xmin
            var sum = 0.0
            for x in 0..<max(xmax, 0) {
                let weight = filter.weight((Double(x + xmin) - center + 0.5) * inverseFilterScale)
                window[x] = weight
                sum += weight
            }
            for x in 0..<max(xmax, 0) {
                let normalized = sum != 0 ? window[x] / sum : window[x]
                weights[output * kernelSize + x] = normalized < 0 ? Int32(-0.5 + normalized * one) : Int32(0.5 + normalized * one)
            }
            first[output] = xmin
            count[output] = max(xmax, 0)
        }
        self.outputSize = outputSize
        self.kernelSize = kernelSize
        self.first = first
        self.count = count
        self.weights = weights
    }

    /// `(2^21 + sum) >> 22` clipped to a byte (Pillow's `clip8`).
    @inline(__always)
    static func clip(_ sum: Int32) -> UInt8 {
        let value = sum >> Int32(precisionBits)
        return value < 0 ? 0 : value > 255 ? 255 : UInt8(truncatingIfNeeded: value)
    }
}
