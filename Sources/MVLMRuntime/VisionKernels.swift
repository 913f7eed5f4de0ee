#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMGraph

/// Kernels of vision encoders and projectors over f32 activations: bidirectional attention,
/// patch extraction, and depthwise convolution and pooling of token-major grids
/// (`[height * width, channels]`, row by row, so channels are contiguous and vectorize).
enum VisionKernels {
    /// Queries processed together against each key (the key row is loaded once per block).
    static let queryBlock = 4

    /// Bidirectional attention: every row of `q` attends to every row of `k`/`v`, per head.
    ///
    /// Per head, keys are transposed to `[d][tokens]` so a block of 4 queries times 16 keys is
    /// 8 SIMD accumulators fed by broadcasts (no horizontal sums); the softmax weights then
    /// accumulate value rows into the 4 outputs.
    /// - Parameters: `q`, `k`, `v` and `output` are `[tokens, heads * headDimension]`.
    static func encoderAttention(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDimension d: Int, scale: Float,
        threads: Int
    ) {
        let width = heads * d
        // Keys per head transposed and padded to a multiple of 16 columns: [head][d][padded].
        let padded = (tokens + 15) / 16 * 16
        let keys = UnsafeMutablePointer<Float>.allocate(capacity: heads * d * padded)
        let values = UnsafeMutablePointer<Float>.allocate(capacity: tokens * width)
        defer {
            keys.deallocate()
            values.deallocate()
        }
        keys.initialize(repeating: 0, count: heads * d * padded)
        for t in 0..<tokens {
            for h in 0..<heads {
                for c in 0..<d { keys[(h * d + c) * padded + t] = k[t * width + h * d + c] }
                (values + (h * tokens + t) * d).update(from: v + t * width + h * d, count: d)
            }
        }
        let blocks = (tokens + queryBlock - 1) / queryBlock
        let box = UncheckedSendable((q, UnsafePointer(keys), UnsafePointer(values), output))
        Parallel.forEachChunk(count: heads * blocks, threads: threads) { range in
            let (q, keys, values, output) = box.value
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * padded)
            defer { scores.deallocate() }
            for item in range {
                let h = item / blocks
                let first = (item - h * blocks) * queryBlock
                let rows = min(queryBlock, tokens - first)
                // Missing rows of the last block repeat the last query (computed, not stored).
                let r0 = q + (first) * width + h * d
                let r1 = q + (first + min(1, rows - 1)) * width + h * d
                let r2 = q + (first + min(2, rows - 1)) * width + h * d
                let r3 = q + (first + min(3, rows - 1)) * width + h * d
                let headKeys = UnsafeRawPointer(keys + h * d * padded)
                let out = UnsafeMutableRawPointer(scores)
                var j = 0
                while j < padded {
                    var a0 = SIMD8<Float>(), b0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b1 = SIMD8<Float>()
                    var a2 = SIMD8<Float>(), b2 = SIMD8<Float>(), a3 = SIMD8<Float>(), b3 = SIMD8<Float>()
                    for c in 0..<d {
                        let row = headKeys + (c * padded + j) * 4
                        let ka = row.loadUnaligned(as: SIMD8<Float>.self)
                        let kb = row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                        let x0 = SIMD8(repeating: r0[c]), x1 = SIMD8(repeating: r1[c])
                        let x2 = SIMD8(repeating: r2[c]), x3 = SIMD8(repeating: r3[c])
                        a0 += x0 * ka; b0 += x0 * kb
                        a1 += x1 * ka; b1 += x1 * kb
                        a2 += x2 * ka; b2 += x2 * kb
                        a3 += x3 * ka; b3 += x3 * kb
                    }
                    let s = SIMD8<Float>(repeating: scale)
                    out.storeBytes(of: a0 * s, toByteOffset: j * 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: b0 * s, toByteOffset: (j + 8) * 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: a1 * s, toByteOffset: (padded + j) * 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: b1 * s, toByteOffset: (padded + j + 8) * 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: a2 * s, toByteOffset: (2 * padded + j) * 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: b2 * s, toByteOffset: (2 * padded + j + 8) * 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: a3 * s, toByteOffset: (3 * padded + j) * 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: b3 * s, toByteOffset: (3 * padded + j + 8) * 4, as: SIMD8<Float>.self)
                    j += 16
                }
                for r in 0..<queryBlock { softmax(scores + r * padded, count: tokens) }
                // Values: 4 output rows x 8 columns in registers, one value load per key.
                let headValues = UnsafeRawPointer(values + h * tokens * d)
                let p0 = scores, p1 = scores + padded, p2 = scores + 2 * padded, p3 = scores + 3 * padded
                var c = 0
                while c + 8 <= d {
                    var o0 = SIMD8<Float>(), o1 = SIMD8<Float>(), o2 = SIMD8<Float>(), o3 = SIMD8<Float>()
                    for j in 0..<tokens {
                        let value = headValues.loadUnaligned(fromByteOffset: (j * d + c) * 4, as: SIMD8<Float>.self)
                        o0 += SIMD8(repeating: p0[j]) * value
                        o1 += SIMD8(repeating: p1[j]) * value
                        o2 += SIMD8(repeating: p2[j]) * value
                        o3 += SIMD8(repeating: p3[j]) * value
                    }
                    let base = output + first * width + h * d + c
                    UnsafeMutableRawPointer(base).storeBytes(of: o0, as: SIMD8<Float>.self)
                    if rows > 1 { UnsafeMutableRawPointer(base + width).storeBytes(of: o1, as: SIMD8<Float>.self) }
                    if rows > 2 { UnsafeMutableRawPointer(base + 2 * width).storeBytes(of: o2, as: SIMD8<Float>.self) }
                    if rows > 3 { UnsafeMutableRawPointer(base + 3 * width).storeBytes(of: o3, as: SIMD8<Float>.self) }
                    c += 8
                }
                while c < d {
                    for r in 0..<rows {
                        var sum: Float = 0
                        for j in 0..<tokens { sum += scores[r * padded + j] * values[(h * tokens + j) * d + c] }
                        output[(first + r) * width + h * d + c] = sum
                    }
                    c += 1
                }
            }
        }
    }

    /// `row[0..<count] = softmax(row[0..<count])`, eight lanes at a time.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        let raw = UnsafeMutableRawPointer(row)
        var maximum = -Float.infinity
        for j in 0..<count { maximum = max(maximum, row[j]) }
        let top = SIMD8<Float>(repeating: maximum)
        var sums = SIMD8<Float>()
        var j = 0
        while j + 8 <= count {
            let e = exp(raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - top)
            raw.storeBytes(of: e, toByteOffset: j * 4, as: SIMD8<Float>.self)
            sums += e
            j += 8
        }
        var total = sums.sum()
        while j < count {
            let e = expf(row[j] - maximum)
            row[j] = e
            total += e
            j += 1
        }
        let inverse = SIMD8<Float>(repeating: 1 / total)
        j = 0
        while j + 8 <= count {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * inverse, toByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        while j < count {
            row[j] *= inverse[0]
            j += 1
        }
    }

    /// `e^x` per lane for x <= 0 (softmax arguments), to about 2 ulp: `2^n * p(r)` with
    /// `x = n ln 2 + r`, `|r| <= ln 2 / 2`, and a degree-6 polynomial (Cephes `expf`); every step
    /// is a lane-wise float or integer operation, so it vectorizes.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let clamped = x.replacing(with: -87.3, where: x .< -87.3)
        // n = round(x / ln 2) by the 1.5 * 2^23 shifter: its low mantissa bits hold n.
        let shifter = SIMD8<Float>(repeating: 12582912)
        let t = clamped * 1.442695041 + shifter
        let n = t - shifter
        let r = clamped - n * 0.693359375 + n * 2.12194440e-4
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * r * r + r + 1
        let integer = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(shifter, to: SIMD8<Int32>.self)
        let bits = (integer &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// `x · sigmoid(1.702 x)` (CLIP's quick-GELU) in place, eight lanes at a time through `exp` of
    /// `-|1.702 x|` (never overflows): sigmoid is `1 / (1 + e)` for x >= 0 and `e / (1 + e)` below.
    static func quickGelu(_ values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        let raw = UnsafeMutableRawPointer(base)
        let count = values.count
        var i = 0
        while i + 8 <= count {
            let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let z = x * 1.702
            let e = exp(-(z.replacing(with: -z, where: z .< 0)))
            let numerator = SIMD8<Float>(repeating: 1).replacing(with: e, where: z .< 0)
            raw.storeBytes(of: x * numerator / (1 + e), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            values[i] = Kernels.quickGelu(values[i])
            i += 1
        }
    }

    /// `[C, H, W]` -> `[(H/p)(W/p), C p p]`, each row one square in `(channel, row, column)` order.
    static func patchify(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, patch: Int, into y: UnsafeMutablePointer<Float>) {
        let across = width / patch, down = height / patch
        let rowWidth = channels * patch * patch
        for py in 0..<down {
            for px in 0..<across {
                var out = y + (py * across + px) * rowWidth
                for c in 0..<channels {
                    for ky in 0..<patch {
                        out.update(from: x + (c * height + py * patch + ky) * width + px * patch, count: patch)
                        out += patch
                    }
                }
            }
        }
    }

    /// Depthwise convolution of a token-major grid with zero padding.
    /// - Parameters:
    ///   - weight: `[channels, kernel * kernel]` (PyTorch's `[C, 1, k, k]`), f32.
    ///   - bias: `[channels]` or nil.
    static func depthwiseConv2d(
        _ x: UnsafePointer<Float>, channels: Int, window: PlanarWindow, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let k = window.kernel
        // Taps as [k * k][channels] so each tap is a contiguous run over channels.
        var taps = [Float](repeating: 0, count: k * k * channels)
        for c in 0..<channels {
            for t in 0..<(k * k) { taps[t * channels + c] = weight[c * k * k + t] }
        }
        let outputWidth = window.outputWidth
        taps.withUnsafeBufferPointer { taps in
            let box = UncheckedSendable((x, taps.baseAddress!, bias, y))
            Parallel.forEachChunk(count: window.outputHeight * outputWidth, threads: threads) { range in
                let (x, taps, bias, y) = box.value
                for position in range {
                    let oy = position / outputWidth, ox = position - oy * outputWidth
                    let out = y + position * channels
                    if let bias { out.update(from: bias, count: channels) } else { out.update(repeating: 0, count: channels) }
                    for ky in 0..<k {
                        let iy = oy * window.stride - window.padding + ky
                        guard iy >= 0, iy < window.height else { continue }
                        for kx in 0..<k {
                            let ix = ox * window.stride - window.padding + kx
                            guard ix >= 0, ix < window.width else { continue }
                            let input = x + (iy * window.width + ix) * channels
                            let tap = taps + (ky * k + kx) * channels
                            multiplyAdd(input, tap, into: out, count: channels)
                        }
                    }
                }
            }
        }
    }

    /// Mean of each window of a token-major grid (no padding).
    static func averagePool2d(
        _ x: UnsafePointer<Float>, channels: Int, window: PlanarWindow, into y: UnsafeMutablePointer<Float>
    ) {
        let k = window.kernel
        let inverse = 1 / Float(k * k)
        for oy in 0..<window.outputHeight {
            for ox in 0..<window.outputWidth {
                let out = y + (oy * window.outputWidth + ox) * channels
                out.update(repeating: 0, count: channels)
                for ky in 0..<k {
                    for kx in 0..<k {
                        let input = x + ((oy * window.stride + ky) * window.width + ox * window.stride + kx) * channels
                        Vector.addScaled(input, 1, into: out, count: channels)
                    }
                }
                for c in 0..<channels { out[c] *= inverse }
            }
        }
    }

    /// The mean of each column of `x [rows, channels]`.
    static func meanRows(_ x: UnsafePointer<Float>, rows: Int, channels: Int, into y: UnsafeMutablePointer<Float>) {
        y.update(repeating: 0, count: channels)
        for r in 0..<rows { Vector.addScaled(x + r * channels, 1, into: y, count: channels) }
        let inverse = 1 / Float(rows)
        for c in 0..<channels { y[c] *= inverse }
    }

    /// `y[i] += a[i] * b[i]`.
    @inline(__always)
    static func multiplyAdd(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), ry = UnsafeMutableRawPointer(y)
        var i = 0
        while i &+ 8 <= count {
            let sum = ry.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                + ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: sum, toByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            y[i] += a[i] * b[i]
            i &+= 1
        }
    }

    @inline(__always)
    static func hardSigmoid(_ x: Float) -> Float { min(max(x + 3, 0), 6) / 6 }

    @inline(__always)
    static func hardSwish(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) / 6 }
}
