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
    /// - Parameters: `q`, `k`, `v` and `output` are `[tokens, heads * headDimension]`.
    static func encoderAttention(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDimension d: Int, scale: Float,
        threads: Int
    ) {
        let width = heads * d
        // Keys and values of each head made contiguous ([head][token][d]) so a key is one run.
        let keys = UnsafeMutablePointer<Float>.allocate(capacity: tokens * width)
        let values = UnsafeMutablePointer<Float>.allocate(capacity: tokens * width)
        defer {
            keys.deallocate()
            values.deallocate()
        }
        for t in 0..<tokens {
            for h in 0..<heads {
                (keys + (h * tokens + t) * d).update(from: k + t * width + h * d, count: d)
                (values + (h * tokens + t) * d).update(from: v + t * width + h * d, count: d)
            }
        }
        let blocks = (tokens + queryBlock - 1) / queryBlock
        let box = UncheckedSendable((q, UnsafePointer(keys), UnsafePointer(values), output))
        Parallel.forEachChunk(count: heads * blocks, threads: threads) { range in
            let (q, keys, values, output) = box.value
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * tokens)
            let query = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * d)
            let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * d)
            defer {
                scores.deallocate()
                query.deallocate()
                accumulator.deallocate()
            }
            for item in range {
                let h = item / blocks
                let first = (item - h * blocks) * queryBlock
                let rows = min(queryBlock, tokens - first)
                for r in 0..<rows {
                    (query + r * d).update(from: q + (first + r) * width + h * d, count: d)
                }
                let headKeys = keys + h * tokens * d
                let headValues = values + h * tokens * d
                for j in 0..<tokens {
                    let key = headKeys + j * d
                    for r in 0..<rows { scores[r * tokens + j] = Vector.dot(query + r * d, key, count: d) * scale }
                }
                accumulator.update(repeating: 0, count: queryBlock * d)
                for r in 0..<rows {
                    let row = scores + r * tokens
                    var maximum = -Float.infinity
                    for j in 0..<tokens { maximum = max(maximum, row[j]) }
                    var total: Float = 0
                    for j in 0..<tokens {
                        let e = expf(row[j] - maximum)
                        row[j] = e
                        total += e
                    }
                    let inverse = 1 / total
                    for j in 0..<tokens { row[j] *= inverse }
                }
                for j in 0..<tokens {
                    let value = headValues + j * d
                    for r in 0..<rows { Vector.addScaled(value, scores[r * tokens + j], into: accumulator + r * d, count: d) }
                }
                for r in 0..<rows {
                    (output + (first + r) * width + h * d).update(from: accumulator + r * d, count: d)
                }
            }
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
