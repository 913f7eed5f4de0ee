import MVLMCore

/// GGUF IQ4_NL blocks (see ``QuantizationScheme/iq4_NL``): 32 weights, 18 bytes, each weight an index
/// into a fixed non-linear grid of 16 int8 values scaled by the block's f16 `d`.
///
/// The quantizer follows llama.cpp's `quantize_iq4_nl` (what `llama-quantize` writes, with and
/// without an importance matrix) operation for operation in f32, so the bytes are identical (tested
/// against fixtures written by llama.cpp's own code, `Tests/Fixtures/iq4nl/`).
enum IQ4_NLKernel {
    static let elements = 32
    static let bytes = 18

    /// The grid (ggml's `kvalues_iq4nl`): index q ∈ 0...15 stands for `grid[q]`, value `d · grid[q]`.
    static let grid: [Int8] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    /// The grid as f32, for the search.
    private static let gridFloats: [Float] = grid.map { Float($0) }

    /// Quantizes a row of whole blocks. `importance` (llama.cpp's `quant_weights`, one per weight)
    /// switches the search's weights from `x²` to `importance · sqrt(σ² + x²)`, σ² twice the block's
    /// mean square.
    static func quantizeRow(
        _ x: UnsafePointer<Float>, count: Int, importance: UnsafePointer<Float>?, into out: UnsafeMutableRawPointer
    ) {
        gridFloats.withUnsafeBufferPointer { grid in
            var block = 0
            while block &* 32 < count {
                quantizeBlock(
                    x + block &* 32, importance: importance.map { $0 + block &* 32 }, grid: grid.baseAddress!,
                    into: out + block &* 18)
                block &+= 1
            }
        }
    }

    /// The index of the grid value nearest to `value` (ggml's `best_index_int8`: a bisection, the
    /// lower of two neighbours only when strictly nearer; NaN gives 15).
    @inline(__always)
    static func nearestIndex(_ value: Float, _ grid: UnsafePointer<Float>) -> Int {
        if value <= grid[0] { return 0 }
        if value >= grid[15] { return 15 }
        var low = 0, high = 15
        while high &- low > 1 {
            let middle = (low &+ high) / 2
            if value < grid[middle] { high = middle } else { low = middle }
        }
        return value - grid[high &- 1] < grid[high] - value ? high &- 1 : high
    }

    /// One block: the first guess `d = max / 127` (`max` the element of largest magnitude, the first
    /// on ties) refitted by weighted least squares, then 15 candidate inverse scales
    /// `(t - 127) / max`, t = -7...7, each refitted and kept when its weighted error is smaller; the
    /// indices are then the nearest grid values for `x / d` with the f32 `d` (before its f16
    /// rounding, llama.cpp's order). A block with `max|x| < 1e-15` stores d = 0 and index 8 (grid 1).
    @inline(__always)
    static func quantizeBlock(
        _ x: UnsafePointer<Float>, importance: UnsafePointer<Float>?, grid: UnsafePointer<Float>,
        into out: UnsafeMutableRawPointer
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buffer in
            let w = buffer.baseAddress!
            if let importance {
                var sigma2: Float = 0
                for j in 0..<32 { sigma2 += x[j] * x[j] }
                sigma2 *= 2 / 32
                for j in 0..<32 { w[j] = importance[j] * (sigma2 + x[j] * x[j]).squareRoot() }
            } else {
                for j in 0..<32 { w[j] = x[j] * x[j] }
            }
            var amax: Float = 0, max: Float = 0
            for j in 0..<32 {
                let ax = abs(x[j])
                if ax > amax { amax = ax; max = x[j] }
            }
            var scale: Float = 0
            if !(amax < 1e-15) {
                // The first guess, refitted.
                var id = 1 / (-max / grid[0])
                var sumqx: Float = 0, sumq2: Float = 0
                for j in 0..<32 {
                    let q = grid[nearestIndex(id * x[j], grid)]
                    let wq = w[j] * q
                    sumqx += wq * x[j]
                    sumq2 += wq * q
                }
                var d: Float = sumq2 > 0 ? sumqx / sumq2 : 0
                var best = d * sumqx
                for step in -7...7 {
                    id = Float(step &- 127) / max
                    sumqx = 0
                    sumq2 = 0
                    for j in 0..<32 {
                        let q = grid[nearestIndex(id * x[j], grid)]
                        let wq = w[j] * q
                        sumqx += wq * x[j]
                        sumq2 += wq * q
                    }
                    if sumq2 > 0 && sumqx * sumqx > best * sumq2 {
                        d = sumqx / sumq2
                        best = d * sumqx
                    }
                }
                scale = d
            }
            out.storeFloat16(scale, at: 0)
            let id: Float = scale != 0 ? 1 / scale : 0
            for j in 0..<16 {
                let low = UInt8(truncatingIfNeeded: nearestIndex(id * x[j], grid))
                let high = UInt8(truncatingIfNeeded: nearestIndex(id * x[j &+ 16], grid))
                out.storeBytes(of: low | high &<< 4, toByteOffset: 2 &+ j, as: UInt8.self)
            }
        }
    }

    /// `y = d · grid[q]` per weight (ggml's `dequantize_row_iq4_nl`).
    static func dequantizeRow(_ src: UnsafeRawPointer, count: Int, into y: UnsafeMutablePointer<Float>) {
        gridFloats.withUnsafeBufferPointer { grid in
            let g = grid.baseAddress!
            var block = 0
            while block &* 32 < count {
                let b = src + block &* 18
                let d = b.float16(at: 0)
                let out = y + block &* 32
                for j in 0..<16 {
                    let byte = b.load(fromByteOffset: 2 &+ j, as: UInt8.self)
                    out[j] = d * g[Int(byte & 0xF)]
                    out[j &+ 16] = d * g[Int(byte &>> 4)]
                }
                block &+= 1
            }
        }
    }
}
