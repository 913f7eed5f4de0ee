import CMVLMKernels
import MVLMCore

/// Matrix × matrix products for prefill and image encoding (`tokens ≥
/// LinearKernel.matrixThreshold`) through the C kernels of `CMVLMKernels` (AVX-512, AVX2+FMA or
/// portable C, chosen at run time).
///
/// - Float weights (`mvlm_gemm_float`): f32/f16/bf16 rows read in place; each thread widens a
///   panel of 32 rows × 256 inputs to f32 once (transposed, on the stack) and a register tile of
///   8 tokens × 32 outputs (AVX-512; 4 × 16 with AVX2) sweeps every token over it. The activations
///   are packed once per call into tiles of 8 tokens. Each output is one f32 FMA chain over the
///   inputs: error at most about `inputs · 2⁻²⁴ · Σ|w·x|`.
/// - Block-quantized weights (`mvlm_gemm_q8`, Q4_0/Q8_0/Q4_K/Q6_K; the interpreter's path sends
///   Q4_0/Q4_K/Q6_K, see `QuantizedMatVec.matrixKernelType`): the activations are quantized
///   to 8 bits per block of 32 once per call (Q8_0 arithmetic), each thread decodes 16 rows × 512
///   inputs of stored blocks into an interleaved int8 panel, and integer dot products (VNNI
///   `vpdpbusd`, or `vpmaddubsw` with AVX2) sweep every token over it. The 8-bit activations add at
///   most half a quantization step per activation (`|Δx| ≤ max|x_block| / 254`), as in decode.
///
/// Threads own disjoint ranges of output rows (`Parallel`); weights are never converted as a whole.
enum MatrixMultiply {
    /// Output rows per chunk are multiples of this (the AVX-512 float panel width).
    static let rowAlignment = 32

    /// The C element type of a float weight format; nil for block formats.
    static func floatType<W: WeightFormat>(_: W.Type) -> Int32? {
        if W.self == Float16Format.self { return Int32(MVLM_WEIGHT_F16) }
        if W.self == BFloat16Format.self { return Int32(MVLM_WEIGHT_BF16) }
        if W.self == Float32Format.self { return Int32(MVLM_WEIGHT_F32) }
        return nil
    }

    /// Runs `body` with the activations `x[tokens, inputs]` packed for `mvlm_gemm_float`.
    static func withPackedFloats<R>(
        _ x: UnsafePointer<Float>, tokens: Int, inputs: Int, threads: Int, _ body: (UnsafePointer<Float>) throws -> R
    ) rethrows -> R {
        let count = Int(mvlm_gemm_float_packed_count(Int64(tokens), Int64(inputs)))
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        defer { packed.deallocate() }
        let tiles = (tokens + 7) / 8
        let shared = UncheckedSendable((x, packed))
        Parallel.forEachChunk(count: tiles, threads: threads, minimumChunk: 8) { range in
            mvlm_gemm_float_pack(
                shared.value.0, Int64(tokens), Int64(inputs), Int64(range.lowerBound), Int64(range.upperBound), shared.value.1)
        }
        return try body(UnsafePointer(packed))
    }

    /// `y[t, n] = Σ_k x[t, k] · w[n, k] (+ bias[n])` for float weights of C element type `type`
    /// whose rows start `rowStride` elements apart at `weights`.
    static func float(
        type: Int32, weights: UnsafeRawPointer, rowStride: Int, x: UnsafePointer<Float>, tokens: Int, inputs: Int,
        outputs: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withPackedFloats(x, tokens: tokens, inputs: inputs, threads: threads) { packed in
            let shared = UncheckedSendable((weights, packed, bias, y))
            Parallel.forEachChunk(count: outputs, threads: threads, alignment: rowAlignment, minimumChunk: rowAlignment) { range in
                let (w, xp, b, out) = shared.value
                mvlm_gemm_float(
                    type, w, Int64(rowStride), Int64(range.lowerBound), Int64(range.upperBound), xp, Int64(tokens),
                    Int64(inputs), b, out, Int64(outputs))
            }
        }
    }

    /// `y[t, n] = Σ_k x[t, k] · w[n, k] (+ bias[n])` for a matrix of blocks of the C kernel type
    /// `code` (see `QuantizedMatVec.kernelType`), `rowBytes` per row; `inputs % 32 == 0`.
    /// `rows16`: the weights are in the rows16 layout (`RowInterleave`), `outputs % 16 == 0`.
    static func quantized(
        code: Int32, weights: UnsafeRawPointer, rowBytes: Int, rows16: Bool = false, x: UnsafePointer<Float>, tokens: Int,
        inputs: Int,
        outputs: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let bytes = Int(mvlm_gemm_q8_packed_bytes(Int64(tokens), Int64(inputs)))
        let packed = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        defer { packed.deallocate() }
        let tiles = (tokens + 7) / 8
        let shared = UncheckedSendable((x, packed, weights, bias, y))
        Parallel.forEachChunk(count: tiles, threads: threads, minimumChunk: 4) { range in
            mvlm_gemm_q8_pack(
                shared.value.0, Int64(tokens), Int64(inputs), Int64(range.lowerBound), Int64(range.upperBound), shared.value.1)
        }
        Parallel.forEachChunk(count: outputs, threads: threads, alignment: 16, minimumChunk: 16) { range in
            let (_, xp, w, b, out) = shared.value
            if code == 4 {  // IQ4_NL: row-major only; a scratch buffer per chunk for its Q8_0 rows
                let scratch = UnsafeMutableRawPointer.allocate(
                    byteCount: max(Int(mvlm_gemm_iq4nl_scratch_bytes(Int64(inputs))), 1), alignment: 64)
                defer { scratch.deallocate() }
                mvlm_gemm_iq4nl(
                    w, rowBytes, Int64(range.lowerBound), Int64(range.upperBound), UnsafeRawPointer(xp), Int64(tokens),
                    Int64(inputs), b, out, Int64(outputs), scratch)
            } else if rows16 {
                mvlm_gemm_q8_rows16(
                    code, w, rowBytes, Int64(range.lowerBound), Int64(range.upperBound), UnsafeRawPointer(xp), Int64(tokens),
                    Int64(inputs), b, out, Int64(outputs))
            } else {
                mvlm_gemm_q8(
                    code, w, rowBytes, Int64(range.lowerBound), Int64(range.upperBound), UnsafeRawPointer(xp), Int64(tokens),
                    Int64(inputs), b, out, Int64(outputs))
            }
        }
    }
}
