import Foundation
import CMVLMKernels
import MVLMGraph

/// Scaled dot-product attention through the C kernels (`mvlm_attention`): per head and block of
/// 32 queries, the scores are one matrix product (`Q·Kᵀ` through `mvlm_gemm_float`, the keys read
/// as f32 weight rows), a row softmax (maximum subtracted, `expf`), then a second product with
/// the values (`P·V`). Same inputs and outputs as `Kernels.attention`: `q`/`output` are
/// `[tokens, heads · d]`, `keys`/`values` hold `past + tokens` rows of `[keyValueHeads · d]`;
/// grouped-query heads share a key/value head. `causal: false` lets every query see every key
/// (the vision encoder).
///
/// Threads take work items (head, query block) from `Parallel`; each owns its scratch (one block's
/// scores and packed operands), and items write disjoint parts of `output`.
enum AttentionKernel {
    /// Query rows from which the interpreter's causal attention uses the matrix route (`run`);
    /// fewer rows (decode) go to `runRows`. MVLM_ATTENTION_ROWS overrides it.
    static let minimumRows: Int = {
        if let text = ProcessInfo.processInfo.environment["MVLM_ATTENTION_ROWS"], let rows = Int(text), rows > 0 { return rows }
        return 4
    }()

    /// Few query rows (decode): `mvlm_attention_rows`, one work item per (token, head): the
    /// query's dot products with the visible keys, the softmax, the weighted sum of the values.
    static func runRows(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        tokens: Int, past: Int, parameters p: AttentionParameters, causal: Bool = true, threads: Int
    ) {
        guard tokens > 0 else { return }
        let shared = UncheckedSendable((q, keys, values, output))
        forEachItemRange(
            items: tokens * p.heads, scratchCount: Int(mvlm_attention_rows_scratch_count(Int64(tokens), Int64(past))),
            threads: threads
        ) { first, last, scratch in
            let (q, keys, values, output) = shared.value
            mvlm_attention_rows(
                q, keys, values, output, Int64(tokens), Int64(past), Int64(p.heads), Int64(p.keyValueHeads),
                Int64(p.headDimension), p.scale, causal ? 1 : 0, first, last, scratch)
        }
    }

    /// Calls `kernel(first, last, scratch)` on disjoint ranges of `items` work items from up to
    /// `threads` threads, each call with its own `scratchCount` floats of scratch.
    private static func forEachItemRange(
        items: Int, scratchCount: Int, threads: Int, _ kernel: (Int64, Int64, UnsafeMutablePointer<Float>) -> Void
    ) {
        Parallel.forEachChunk(count: items, threads: threads) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            kernel(Int64(range.lowerBound), Int64(range.upperBound), scratch)
        }
    }

    static func run(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        tokens: Int, past: Int, parameters p: AttentionParameters, causal: Bool = true, threads: Int
    ) {
        guard tokens > 0 else { return }
        let blocks = (tokens + 31) / 32
        let shared = UncheckedSendable((q, keys, values, output))
        forEachItemRange(
            items: p.heads * blocks,
            scratchCount: Int(mvlm_attention_scratch_count(Int64(tokens), Int64(past), Int64(p.headDimension))), threads: threads
        ) { first, last, scratch in
            let (q, keys, values, output) = shared.value
            mvlm_attention(
                q, keys, values, output, Int64(tokens), Int64(past), Int64(p.heads), Int64(p.keyValueHeads),
                Int64(p.headDimension), p.scale, causal ? 1 : 0, first, last, scratch)
        }
    }
}
