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
        let scratchCount = Int(mvlm_attention_rows_scratch_count(Int64(tokens), Int64(past)))
        let shared = UncheckedSendable((q, keys, values, output))
        Parallel.forEachChunk(count: tokens * p.heads, threads: threads) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            let (q, keys, values, output) = shared.value
            mvlm_attention_rows(
                q, keys, values, output, Int64(tokens), Int64(past), Int64(p.heads), Int64(p.keyValueHeads),
                Int64(p.headDimension), p.scale, causal ? 1 : 0, Int64(range.lowerBound), Int64(range.upperBound), scratch)
        }
    }

    static func run(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        tokens: Int, past: Int, parameters p: AttentionParameters, causal: Bool = true, threads: Int
    ) {
        guard tokens > 0 else { return }
        let blocks = (tokens + 31) / 32
        let scratchCount = Int(mvlm_attention_scratch_count(Int64(tokens), Int64(past), Int64(p.headDimension)))
        let shared = UncheckedSendable((q, keys, values, output))
        Parallel.forEachChunk(count: p.heads * blocks, threads: threads) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            let (q, keys, values, output) = shared.value
            mvlm_attention(
                q, keys, values, output, Int64(tokens), Int64(past), Int64(p.heads), Int64(p.keyValueHeads),
                Int64(p.headDimension), p.scale, causal ? 1 : 0, Int64(range.lowerBound), Int64(range.upperBound), scratch)
        }
    }
}
