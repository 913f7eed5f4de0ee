import CMVLMKernels
import Foundation
import MVLMCore

/// Products with Q4_0, Q8_0 (and INT8_B32), Q4_K, Q6_K, IQ4_NL, INT8_PC, AFFINE4 and Q4_1 (AFFINE4_G32's bytes)
/// weights (and Q5_0, Q5_1:
/// QuantizedMatVec+Legacy.swift) through the C kernels, on the
/// stored blocks with activations quantized to 8 bits per block of 32 (what llama.cpp's CPU
/// backend does):
/// - decode (fewer than `LinearKernel.matrixThreshold` tokens): each token's activations are
///   quantized once to Q8_0 blocks, then every weight row is an integer dot product per block,
///   scaled by both blocks' f16 scales (`mvlm_matvec_q8`);
/// - prefill of Q4_0, Q4_K, Q6_K and IQ4_NL (rewritten as Q8_0 16 rows at a time, `mvlm_gemm_iq4nl`):
///   `MatrixMultiply.quantized` (tiles of weight rows decoded once
///   per call and swept by every token, `mvlm_gemm_q8`). Q8_0 and INT8_B32 prefill keeps f32
///   activations (`LinearKernel`'s widened tiles and the C float kernel): an 8-bit weight is chosen
///   for accuracy, and 8-bit activations would double its error (on the test fixtures' q8_0 file
///   the prompt logits moved from 0.24 to 0.34 off transformers'). The vision encoder's products
///   are the exception (`Interpreter.eightBitActivations`): there Q8_0 prefill runs through
///   `mvlm_gemm_q8` too, measured in docs/vision.md; `matrixKernelType` decides.
///
/// Used where the C kernels are enabled (`NativeKernels`: x86-64 with AVX2 and FMA, the CPU checked
/// at run time). The 8-bit activations add an error of at most half a quantization step per
/// activation (|Δx| ≤ max|x|/254 per block of 32), documented in docs/quantization.md.
enum QuantizedMatVec {
    /// Whether the C kernels run (`NativeKernels.isEnabled`: `MVLM_KERNELS=swift` turns them off,
    /// for comparisons; `portable` runs the C kernels' portable versions).
    static var isAvailable: Bool { NativeKernels.isEnabled }

    /// The C kernel's code for a block type, if it has one.
    static func kernelType(_ type: BlockType) -> Int32? {
        switch type {
        case .q4_0: 0
        case .q8_0, .int8Block32: 1
        case .q4_K: 2
        case .q6_K: 3
        case .int8PerChannel: Int32(MVLM_Q8_INT8_PC)
        case .affine4G32, .q4_1: Int32(MVLM_Q8_AFFINE4_G32)  // the same bytes
        case .affine4G64: Int32(MVLM_Q8_AFFINE4_G64)
        case .affine4G128: Int32(MVLM_Q8_AFFINE4_G128)
        case .iq4_NL: 4
        default: nil
        }
    }

    /// The C kernel's code for a block type whose prefill uses 8-bit activations, if any. With
    /// `eightBitActivations` (the vision encoder's products, `Interpreter.eightBitActivations`)
    /// Q8_0 and INT8_B32 prefill does too: 8-bit weights times 8-bit activations through the
    /// integer GEMM.
    static func matrixKernelType(_ type: BlockType, eightBitActivations: Bool = false) -> Int32? {
        switch type {
        case .q4_0, .q4_K, .q6_K, .iq4_NL, .int8PerChannel, .affine4G32, .q4_1, .affine4G64, .affine4G128: kernelType(type)
        case .q8_0, .int8Block32: eightBitActivations ? kernelType(type) : nil
        default: nil
        }
    }

    /// Whether `weight` times `tokens` rows of activations goes through these kernels. A matrix in
    /// the rows16 layout always does (the C kernels are its only reader; on a CPU without AVX2, or
    /// with `MVLM_KERNELS=swift`, their portable versions run as detected).
    static func applies(to weight: Tensor, tokens: Int, eightBitActivations: Bool = false) -> Bool {
        if weight.layout == .rows16 { return true }
        guard isAvailable, case .block(let type) = weight.dtype else { return false }
        return integerApplies(type, shape: weight.shape, tokens: tokens, eightBitActivations: eightBitActivations)
    }

    /// Whether a row-major matrix of `type` and `shape` has an integer kernel for `tokens` rows
    /// (the activations are Q8_0 blocks of 32, so the row length must be a multiple of 32).
    static func integerApplies(_ type: BlockType, shape: [Int], tokens: Int, eightBitActivations: Bool = false) -> Bool {
        guard shape.count == 2, shape[1] % type.blockElements == 0, shape[1] % 32 == 0 else { return false }
        let code =
            tokens >= LinearKernel.matrixThreshold
            ? matrixKernelType(type, eightBitActivations: eightBitActivations) : kernelType(type)
        return code != nil || legacyType(type) != nil
    }

    /// `y[t, n] = Σ_k x[t, k] · w[n, k] (+ bias[n])`.
    static func run(
        weight: Tensor, x: UnsafePointer<Float>, tokens: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        guard case .block(let type) = weight.dtype else { preconditionFailure("not a kernel type") }
        let outputs = weight.shape[0], inputs = weight.shape[1]
        let rowBytes = type.rowByteCount(elements: inputs) ?? 0
        if let legacy = legacyType(type) {  // Q5_0, Q5_1 (QuantizedMatVec+Legacy.swift)
            runLegacy(code: legacy, weight: weight, rowBytes: rowBytes, x: x, tokens: tokens, bias: bias, y: y, threads: threads)
            return
        }
        guard let code = kernelType(type) else { preconditionFailure("not a kernel type") }
        let rows16 = weight.layout == .rows16
        if tokens >= LinearKernel.matrixThreshold {
            weight.withUnsafeStoredBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                MatrixMultiply.quantized(
                    code: code, weights: base, rowBytes: rowBytes, rows16: rows16, x: x, tokens: tokens, inputs: inputs,
                    outputs: outputs, bias: bias, y: y, threads: threads)
            }
            return
        }
        // Decode: each token's activations are quantized to Q8_0 once, with each block's sum (Q4_K's
        // min term in the row-major kernels); a rows16 matrix also takes their f32 scales and
        // half-block sums (`mvlm_q8_prepare`), and threads take groups of 16 rows.
        let blocks = inputs / 32
        let quantized = UnsafeMutableRawPointer.allocate(byteCount: max(blocks * 34, 1), alignment: 64)
        defer { quantized.deallocate() }
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: max(blocks, 1))
        defer { sums.deallocate() }
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: rows16 ? max(blocks, 1) : 1)
        defer { scales.deallocate() }
        let halves = UnsafeMutablePointer<Int32>.allocate(capacity: rows16 ? max(2 * blocks, 1) : 1)
        defer { halves.deallocate() }
        weight.withUnsafeStoredBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            let shared = UncheckedSendable(
                (base, UnsafeRawPointer(quantized), UnsafePointer(sums), UnsafePointer(scales), UnsafePointer(halves)))
            for t in 0..<tokens {
                mvlm_quantize_q8_0(x + t &* inputs, quantized, sums, Int64(inputs))
                let out = UncheckedSendable(y + t &* outputs)
                if rows16 {
                    mvlm_q8_prepare(quantized, Int64(inputs), scales, halves)
                    Parallel.forEachChunk(count: outputs / RowInterleave.groupRows, threads: threads, minimumChunk: 2) { range in
                        let (w, xq, _, xd, xs) = shared.value
                        mvlm_matvec_q8_rows16(
                            code, w, Int64(range.lowerBound), Int64(range.upperBound), xq, xd, xs, Int64(inputs), out.value)
                    }
                } else {
                    Parallel.forEachChunk(count: outputs, threads: threads, alignment: 4, minimumChunk: 16) { range in
                        let (w, xq, xsum, _, _) = shared.value
                        mvlm_matvec_q8(
                            code, w, rowBytes, Int64(range.lowerBound), Int64(range.upperBound), xq, xsum, Int64(inputs),
                            out.value)
                    }
                }
                if let bias { for n in 0..<outputs { y[t &* outputs &+ n] += bias[n] } }
            }
        }
    }
}
