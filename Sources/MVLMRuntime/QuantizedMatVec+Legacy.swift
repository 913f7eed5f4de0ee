import CMVLMKernels
import MVLMCore

/// Q5_0 and Q5_1 (llama.cpp's legacy block types) through `mvlm_matvec_legacy` (decode) and
/// `mvlm_gemm_legacy` (prefill), on the stored row-major blocks with activations quantized to Q8_0,
/// as Q4_0 is: decode quantizes each token once (with its block sums, the min term of Q4_1 and Q5_1);
/// prefill packs the activations for `mvlm_gemm_q8` and the kernel rewrites 64-row tiles as Q8_0
/// blocks (exact for the three types) before the Q8_0 matrix kernel. Q5_1 is written by no preset or
/// override type, but `--override '*=keep'` carries it over from a GGUF source. Q4_1 has the same
/// bytes as AFFINE4_G32 and runs through that type's kernel (`matvec_own.c`, `kernelType`), which
/// measured faster on SmolLM2-135M (2 threads, Zen 4, 2026-12-08: decode 164–179 against 113–128
/// tokens/s, prefill 743–799 against 426–527); the legacy kernels' Q4_1 code stays tested in C.
extension QuantizedMatVec {
    /// The legacy kernels' code for a block type (`MVLM_LEGACY_*`), if it has one.
    static func legacyType(_ type: BlockType) -> Int32? {
        switch type {
        case .q5_0: Int32(MVLM_LEGACY_Q5_0)
        case .q5_1: Int32(MVLM_LEGACY_Q5_1)
        default: nil
        }
    }

    /// `y[t, n] = Σ_k x[t, k] · w[n, k] (+ bias[n])` for a row-major Q5_0, Q4_1 or Q5_1 weight (`code`).
    static func runLegacy(
        code: Int32, weight: Tensor, rowBytes: Int, x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let outputs = weight.shape[0], inputs = weight.shape[1], blocks = inputs / 32
        if tokens >= LinearKernel.matrixThreshold {
            let packedBytes = Int(mvlm_gemm_q8_packed_bytes(Int64(tokens), Int64(inputs)))
            let packed = UnsafeMutableRawPointer.allocate(byteCount: max(packedBytes, 1), alignment: 64)
            defer { packed.deallocate() }
            let hasMin = code != Int32(MVLM_LEGACY_Q5_0)  // Q4_1, Q5_1: w = d · q + m
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: hasMin ? max(tokens * blocks, 1) : 1)
            defer { sums.deallocate() }
            let tiles = (tokens + 7) / 8
            let input = UncheckedSendable((x, packed))
            Parallel.forEachChunk(count: tiles, threads: threads, minimumChunk: 4) { range in
                mvlm_gemm_q8_pack(
                    input.value.0, Int64(tokens), Int64(inputs), Int64(range.lowerBound), Int64(range.upperBound), input.value.1)
            }
            if hasMin { mvlm_legacy_activation_sums(x, Int64(tokens), Int64(inputs), sums) }
            let scratchBytes = Int(mvlm_gemm_legacy_scratch_bytes(Int64(inputs)))
            weight.withUnsafeStoredBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                let shared = UncheckedSendable((base, UnsafeRawPointer(packed), hasMin ? UnsafePointer(sums) : nil, bias, y))
                Parallel.forEachChunk(count: outputs, threads: threads, alignment: 16, minimumChunk: 16) { range in
                    let (w, xp, s, b, out) = shared.value
                    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(scratchBytes, 1), alignment: 64)
                    defer { scratch.deallocate() }
                    mvlm_gemm_legacy(
                        code, w, rowBytes, Int64(range.lowerBound), Int64(range.upperBound), xp, s, Int64(tokens), Int64(inputs), b, out,
                        Int64(outputs), scratch)
                }
            }
            return
        }
        let quantized = UnsafeMutableRawPointer.allocate(byteCount: max(blocks * 34, 1), alignment: 64)
        defer { quantized.deallocate() }
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: max(blocks, 1))
        defer { sums.deallocate() }
        weight.withUnsafeStoredBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            let shared = UncheckedSendable((base, UnsafeRawPointer(quantized), UnsafePointer(sums)))
            for t in 0..<tokens {
                mvlm_quantize_q8_0(x + t &* inputs, quantized, sums, Int64(inputs))
                let out = UncheckedSendable(y + t &* outputs)
                Parallel.forEachChunk(count: outputs, threads: threads, alignment: 4, minimumChunk: 16) { range in
                    let (w, xq, xsum) = shared.value
                    mvlm_matvec_legacy(
                        code, w, rowBytes, Int64(range.lowerBound), Int64(range.upperBound), xq, xsum, Int64(inputs), out.value)
                }
                if let bias { for n in 0..<outputs { y[t &* outputs &+ n] += bias[n] } }
            }
        }
    }
}
