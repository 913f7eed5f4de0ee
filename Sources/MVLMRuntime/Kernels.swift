#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMGraph

/// Element-wise, normalization and position kernels over f32 rows. Small vectors (norm weights,
/// biases) arrive already widened to f32.
enum Kernels {
    /// Element counts below which element-wise work stays on one thread.
    static let parallelElements = 1 << 15

    // MARK: Normalization

    /// Hugging Face `LlamaRMSNorm`: `x * rsqrt(mean(x²) + eps) * weight`, per row.
    static func rmsNorm(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>, epsilon: Float,
        into y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let box = UncheckedSendable((x, weight, y))
        Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: max(1, 8192 / max(width, 1))) { range in
            let (x, weight, y) = box.value
            for row in range {
                let xr = x + row &* width
                let yr = y + row &* width
                let meanSquare = Vector.dot(xr, xr, count: width) / Float(width)
                let scale = 1 / (meanSquare + epsilon).squareRoot()
                for i in 0..<width { yr[i] = weight[i] * (xr[i] * scale) }
            }
        }
    }

    /// `(x - mean) / sqrt(var + eps) * weight + bias`, per row (biased variance, as PyTorch); two
    /// passes (mean, then centered squares) with 8-lane accumulators.
    static func layerNorm(
        _ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, epsilon: Float, into y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let box = UncheckedSendable((x, weight, bias, y))
        Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: max(1, 8192 / max(width, 1))) { range in
            let (x, weight, bias, y) = box.value
            let w = UnsafeRawPointer(weight), b = UnsafeRawPointer(bias)
            let body = width & ~7
            for row in range {
                let xr = x + row &* width
                let yr = y + row &* width
                let raw = UnsafeRawPointer(xr), out = UnsafeMutableRawPointer(yr)
                var lanes = SIMD8<Float>()
                var k = 0
                while k < body {
                    lanes += raw.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
                    k &+= 8
                }
                var sum = lanes.sum()
                for i in body..<width { sum += xr[i] }
                let mean = sum / Float(width)
                let mean8 = SIMD8<Float>(repeating: mean)
                lanes = SIMD8<Float>()
                k = 0
                while k < body {
                    let d = raw.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self) - mean8
                    lanes += d * d
                    k &+= 8
                }
                var squares = lanes.sum()
                for i in body..<width {
                    let d = xr[i] - mean
                    squares += d * d
                }
                let scale = 1 / (squares / Float(width) + epsilon).squareRoot()
                let scale8 = SIMD8<Float>(repeating: scale)
                k = 0
                while k < body {
                    let v = (raw.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self) - mean8) * scale8
                        * w.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
                        + b.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
                    out.storeBytes(of: v, toByteOffset: k &* 4, as: SIMD8<Float>.self)
                    k &+= 8
                }
                for i in body..<width { yr[i] = (xr[i] - mean) * scale * weight[i] + bias[i] }
            }
        }
    }

    // MARK: Element-wise

    /// Applies `body` to disjoint index ranges covering `0..<count`, in parallel when large.
    static func elementwise(count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachChunk(count: count, threads: threads, alignment: 8, minimumChunk: parallelElements, body)
    }

    @inline(__always)
    static func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

    @inline(__always)
    static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }

    @inline(__always)
    static func quickGelu(_ x: Float) -> Float { x / (1 + expf(-1.702 * x)) }

    // MARK: Positions

    /// Rotates every head of `x [tokens, heads * headDim]` in place for positions
    /// `firstPosition ..< firstPosition + tokens` (Hugging Face rotate-half layout).
    static func rope(
        _ x: UnsafeMutablePointer<Float>, tokens: Int, width: Int, firstPosition: Int,
        inverseFrequencies: [Float], headDimension: Int, interleaved: Bool = false
    ) {
        let half = headDimension / 2
        var cosines = [Float](repeating: 0, count: half)
        var sines = [Float](repeating: 0, count: half)
        for t in 0..<tokens {
            let position = Float(firstPosition + t)
            for i in 0..<half {
                // As transformers: the angle is a float32 product, then float32 cos/sin.
                let angle = position * inverseFrequencies[i]
                cosines[i] = cosf(angle)
                sines[i] = sinf(angle)
            }
            let row = x + t &* width
            var head = 0
            // Pair i of a head: (i, i + half), or (2i, 2i + 1) when interleaved.
            let (first, step, second) = interleaved ? (0, 2, 1) : (0, 1, half)
            while head < width {
                let h = row + head
                for i in 0..<half {
                    let j = first &+ i &* step
                    let a = h[j], b = h[j &+ second]
                    h[j] = a * cosines[i] - b * sines[i]
                    h[j &+ second] = b * cosines[i] + a * sines[i]
                }
                head &+= headDimension
            }
        }
    }

    // MARK: Attention

    /// Causal attention of `tokens` new queries against a cache that already holds them:
    /// query `t` sits at position `past + t` and sees keys `0...past + t`.
    /// - Parameters:
    ///   - q: `[tokens, heads * headDim]`.
    ///   - keys, values: `[past + tokens, kvHeads * headDim]` (the cache after appending).
    ///   - output: `[tokens, heads * headDim]`.
    static func attention(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, tokens: Int, past: Int, parameters p: AttentionParameters,
        threads: Int
    ) {
        let d = p.headDimension
        let queryWidth = p.heads * d
        let keyWidth = p.keyValueHeads * d
        let group = p.heads / p.keyValueHeads
        let box = UncheckedSendable((q, keys, values, output))
        // One work item per (token, head); chunks are contiguous runs of items.
        Parallel.forEachChunk(count: tokens * p.heads, threads: threads) { range in
            let (q, keys, values, output) = box.value
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: past + tokens)
            defer { scores.deallocate() }
            for item in range {
                let t = item / p.heads
                let head = item - t * p.heads
                let kvHead = head / group
                let query = q + (t &* queryWidth &+ head &* d)
                let visible = past &+ t &+ 1
                var maximum = -Float.infinity
                for j in 0..<visible {
                    let score = Vector.dot(query, keys + (j &* keyWidth &+ kvHead &* d), count: d) * p.scale
                    scores[j] = score
                    maximum = max(maximum, score)
                }
                var total: Float = 0
                for j in 0..<visible {
                    let e = expf(scores[j] - maximum)
                    scores[j] = e
                    total += e
                }
                let out = output + (t &* queryWidth &+ head &* d)
                out.update(repeating: 0, count: d)
                for j in 0..<visible {
                    Vector.addScaled(values + (j &* keyWidth &+ kvHead &* d), scores[j], into: out, count: d)
                }
                let inverse = 1 / total
                for i in 0..<d { out[i] *= inverse }
            }
        }
    }
}
