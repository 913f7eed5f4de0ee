import CMVLMKernels

/// `y[t, n] = Σ_k x[t, k] · w[n, k] (+ bias[n])` for a weight in any `WeightFormat`.
///
/// Threads own disjoint ranges of output features `n`. Within a range:
/// - few tokens (decode): f32/f16/bf16 weights go to the C kernel `mvlm_matvec_float` when the C
///   kernels are enabled; otherwise (and for the other formats) four weight rows at a time are
///   streamed straight from the mapping, widened eight elements at a time, and dotted with every
///   token (the rows stay in L1);
/// - many tokens (prefill) with the C kernels enabled (`NativeKernels`): f32/f16/bf16 weights go
///   straight to the C matrix × matrix kernel (`MatrixMultiply.float`), which widens a panel of
///   rows at a time itself; other formats have a tile of `nativeTileRows` rows widened by their
///   Swift format into a per-thread f32 buffer, then the same C kernel multiplies it;
/// - many tokens without the C kernels (`MVLM_KERNELS=swift`, CPUs without AVX2): a tile of
///   weight rows is widened once into a small per-thread f32 buffer, then a 4-token × 2-row
///   register block sweeps all tokens, so every weight byte is read from memory once per call and
///   the work is matrix-matrix.
struct LinearKernel: WeightKernel {
    /// Tokens at or above which the tiled matrix-matrix path is used.
    static let matrixThreshold = 4
    /// Weight rows widened per tile on the Swift matrix path.
    static let tileRows = 16
    /// Weight rows widened per tile in Swift before the C matrix kernel (formats it cannot read).
    static let nativeTileRows = 64

    /// The activations; inside `run`, their packed copy.
    var x: UnsafePointer<Float>
    let tokens: Int
    let inputs: Int  // K
    let outputs: Int  // N
    let bias: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>
    let threads: Int
    /// Whether prefill may use the C matrix kernels (tests turn it off to check the Swift path).
    var nativeKernels = NativeKernels.isEnabled

    func run<W: WeightFormat>(_ format: W.Type, _ w: UnsafeRawPointer) {
        let native = tokens >= Self.matrixThreshold && nativeKernels
        if native, let type = MatrixMultiply.floatType(W.self) {
            MatrixMultiply.float(
                type: type, weights: w, rowStride: inputs, x: x, tokens: tokens, inputs: inputs, outputs: outputs, bias: bias,
                y: y, threads: threads)
            return
        }
        if !native && nativeKernels, tokens < Self.matrixThreshold, let type = MatrixMultiply.floatType(W.self) {
            vectorRowsNative(type: type, w)
            return
        }
        // The activations in the weight format's packed order (see `WeightFormat`).
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: max(tokens &* inputs, 1))
        defer { packed.deallocate() }
        for t in 0..<tokens { W.pack(x + t &* inputs, count: inputs, into: packed + t &* inputs) }
        var context = self
        context.x = UnsafePointer(packed)
        if native {
            context.widenedRows(W.self, w)
            return
        }
        let shared = UncheckedSendable(context)
        let weights = UncheckedSendable(w)
        // Chunks of at least 16 rows; keeps per-thread work meaningful for small layers.
        Parallel.forEachChunk(
            count: outputs, threads: threads, alignment: Self.tileRows, minimumChunk: 16
        ) { range in
            if shared.value.tokens >= Self.matrixThreshold {
                shared.value.matrixRows(W.self, weights.value, range)
            } else {
                shared.value.vectorRows(W.self, weights.value, range)
            }
        }
    }

    /// Decode of f32/f16/bf16 weights in C (`mvlm_matvec_float`: four rows at a time, widened in
    /// registers), threads taking chunks of rows; each token's activations unpacked.
    private func vectorRowsNative(type: Int32, _ w: UnsafeRawPointer) {
        let shared = UncheckedSendable((self, w))
        Parallel.forEachChunk(count: outputs, threads: threads, alignment: 4, minimumChunk: 16) { range in
            let (kernel, w) = shared.value
            for t in 0..<kernel.tokens {
                let yt = kernel.y + t &* kernel.outputs
                mvlm_matvec_float(
                    type, w, Int64(kernel.inputs), Int64(range.lowerBound), Int64(range.upperBound), kernel.x + t &* kernel.inputs,
                    Int64(kernel.inputs), yt)
                if let bias = kernel.bias { for n in range { yt[n] += bias[n] } }
            }
        }
    }

    /// Prefill for formats the C kernel cannot read: tiles of rows widened in Swift (packed
    /// order, like `x` here), each multiplied by `mvlm_gemm_float` as f32 rows.
    private func widenedRows<W: WeightFormat>(_: W.Type, _ w: UnsafeRawPointer) {
        MatrixMultiply.withPackedFloats(x, tokens: tokens, inputs: inputs, threads: threads) { packed in
            let shared = UncheckedSendable((self, w, packed))
            Parallel.forEachChunk(
                count: outputs, threads: threads, alignment: Self.nativeTileRows, minimumChunk: Self.nativeTileRows
            ) { range in
                let (kernel, weights, xp) = shared.value
                let inputs = kernel.inputs
                let tile = UnsafeMutablePointer<Float>.allocate(capacity: Self.nativeTileRows * max(inputs, 1))
                defer { tile.deallocate() }
                var n0 = range.lowerBound
                while n0 < range.upperBound {
                    let rows = min(Self.nativeTileRows, range.upperBound &- n0)
                    for r in 0..<rows {
                        W.widenPacked(weights, start: (n0 &+ r) &* inputs, count: inputs, into: tile + r &* inputs)
                    }
                    mvlm_gemm_float(
                        Int32(MVLM_WEIGHT_F32), tile, Int64(inputs), 0, Int64(rows), xp, Int64(kernel.tokens), Int64(inputs),
                        kernel.bias.map { $0 + n0 }, kernel.y + n0, Int64(kernel.outputs))
                    n0 &+= rows
                }
            }
        }
    }

    @inline(__always)
    private func store(_ value: Float, token: Int, row: Int) {
        y[token &* outputs &+ row] = value + (bias?[row] ?? 0)
    }

    // MARK: Few tokens

    private func vectorRows<W: WeightFormat>(_: W.Type, _ w: UnsafeRawPointer, _ range: Range<Int>) {
        let k8 = inputs & ~7
        var n = range.lowerBound
        while n &+ 4 <= range.upperBound {
            let r0 = n &* inputs, r1 = r0 &+ inputs, r2 = r1 &+ inputs, r3 = r2 &+ inputs
            for t in 0..<tokens {
                let xt = x + t &* inputs
                let xr = UnsafeRawPointer(xt)
                // Separate accumulators for the two halves of each block: a single
                // `acc += wa * xa + wb * xb` makes LLVM's SLP vectorizer scalarize the loop.
                var a0 = SIMD4<Float>(), a1 = SIMD4<Float>(), a2 = SIMD4<Float>(), a3 = SIMD4<Float>()
                var b0 = SIMD4<Float>(), b1 = SIMD4<Float>(), b2 = SIMD4<Float>(), b3 = SIMD4<Float>()
                var k = 0
                while k < k8 {
                    let xa = xr.loadUnaligned(fromByteOffset: k &* 4, as: SIMD4<Float>.self)
                    let xb = xr.loadUnaligned(fromByteOffset: (k &+ 4) &* 4, as: SIMD4<Float>.self)
                    let (w0a, w0b) = W.load8(w, r0 &+ k)
                    a0 += w0a * xa
                    b0 += w0b * xb
                    let (w1a, w1b) = W.load8(w, r1 &+ k)
                    a1 += w1a * xa
                    b1 += w1b * xb
                    let (w2a, w2b) = W.load8(w, r2 &+ k)
                    a2 += w2a * xa
                    b2 += w2b * xb
                    let (w3a, w3b) = W.load8(w, r3 &+ k)
                    a3 += w3a * xa
                    b3 += w3b * xb
                    k &+= 8
                }
                a0 += b0
                a1 += b1
                a2 += b2
                a3 += b3
                var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                while k < inputs {
                    let xv = xt[k]
                    s0 += W.load(w, r0 &+ k) * xv
                    s1 += W.load(w, r1 &+ k) * xv
                    s2 += W.load(w, r2 &+ k) * xv
                    s3 += W.load(w, r3 &+ k) * xv
                    k &+= 1
                }
                store(s0, token: t, row: n)
                store(s1, token: t, row: n &+ 1)
                store(s2, token: t, row: n &+ 2)
                store(s3, token: t, row: n &+ 3)
            }
            n &+= 4
        }
        while n < range.upperBound {
            let r0 = n &* inputs
            for t in 0..<tokens {
                let xt = x + t &* inputs
                let xr = UnsafeRawPointer(xt)
                var a0 = SIMD4<Float>(), b0 = SIMD4<Float>()
                var k = 0
                while k < k8 {
                    let (wa, wb) = W.load8(w, r0 &+ k)
                    a0 += wa * xr.loadUnaligned(fromByteOffset: k &* 4, as: SIMD4<Float>.self)
                    b0 += wb * xr.loadUnaligned(fromByteOffset: (k &+ 4) &* 4, as: SIMD4<Float>.self)
                    k &+= 8
                }
                var s0 = (a0 + b0).sum()
                while k < inputs {
                    s0 += W.load(w, r0 &+ k) * xt[k]
                    k &+= 1
                }
                store(s0, token: t, row: n)
            }
            n &+= 1
        }
    }

    // MARK: Many tokens

    private func matrixRows<W: WeightFormat>(_: W.Type, _ w: UnsafeRawPointer, _ range: Range<Int>) {
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: Self.tileRows * max(inputs, 1))
        defer { tile.deallocate() }
        var n0 = range.lowerBound
        while n0 < range.upperBound {
            let rows = min(Self.tileRows, range.upperBound &- n0)
            for r in 0..<rows {
                W.widenPacked(w, start: (n0 &+ r) &* inputs, count: inputs, into: tile + r &* inputs)
            }
            var t = 0
            while t &+ 4 <= tokens {
                var r = 0
                while r &+ 2 <= rows {
                    block4x2(tile + r &* inputs, token: t, row: n0 &+ r)
                    r &+= 2
                }
                if r < rows {
                    for i in 0..<4 { store(dot(tile + r &* inputs, x + (t &+ i) &* inputs), token: t &+ i, row: n0 &+ r) }
                }
                t &+= 4
            }
            while t < tokens {
                for r in 0..<rows { store(dot(tile + r &* inputs, x + t &* inputs), token: t, row: n0 &+ r) }
                t &+= 1
            }
            n0 &+= rows
        }
    }

    /// Four tokens starting at `token` × two widened weight rows at `wr` (rows `row`, `row + 1`):
    /// eight `SIMD4` accumulators, two weight and four activation vectors per step, which fits
    /// the sixteen 128-bit registers of baseline x86-64 without spilling.
    @inline(__always)
    private func block4x2(_ wr: UnsafePointer<Float>, token: Int, row: Int) {
        let w0 = UnsafeRawPointer(wr), w1 = UnsafeRawPointer(wr + inputs)
        let x0 = UnsafeRawPointer(x + token &* inputs)
        let x1 = x0 + inputs &* 4, x2 = x1 + inputs &* 4, x3 = x2 + inputs &* 4
        var a00 = SIMD4<Float>(), a01 = SIMD4<Float>(), a10 = SIMD4<Float>(), a11 = SIMD4<Float>()
        var a20 = SIMD4<Float>(), a21 = SIMD4<Float>(), a30 = SIMD4<Float>(), a31 = SIMD4<Float>()
        let k4 = inputs & ~3
        var offset = 0
        let end = k4 &* 4
        while offset < end {
            let v0 = w0.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            let v1 = w1.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            let u0 = x0.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            a00 += u0 * v0
            a01 += u0 * v1
            let u1 = x1.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            a10 += u1 * v0
            a11 += u1 * v1
            let u2 = x2.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            a20 += u2 * v0
            a21 += u2 * v1
            let u3 = x3.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
            a30 += u3 * v0
            a31 += u3 * v1
            offset &+= 16
        }
        var s = (a00.sum(), a01.sum(), a10.sum(), a11.sum(), a20.sum(), a21.sum(), a30.sum(), a31.sum())
        var k = k4
        while k < inputs {
            let v0 = wr[k], v1 = wr[inputs &+ k]
            let xs = x + (token &* inputs &+ k)
            let u0 = xs[0], u1 = xs[inputs], u2 = xs[inputs &* 2], u3 = xs[inputs &* 3]
            s.0 += u0 * v0; s.1 += u0 * v1; s.2 += u1 * v0; s.3 += u1 * v1
            s.4 += u2 * v0; s.5 += u2 * v1; s.6 += u3 * v0; s.7 += u3 * v1
            k &+= 1
        }
        store(s.0, token: token, row: row)
        store(s.1, token: token, row: row &+ 1)
        store(s.2, token: token &+ 1, row: row)
        store(s.3, token: token &+ 1, row: row &+ 1)
        store(s.4, token: token &+ 2, row: row)
        store(s.5, token: token &+ 2, row: row &+ 1)
        store(s.6, token: token &+ 3, row: row)
        store(s.7, token: token &+ 3, row: row &+ 1)
    }

    @inline(__always)
    private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        Vector.dot(a, b, count: inputs)
    }
}
