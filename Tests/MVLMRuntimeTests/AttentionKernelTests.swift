import CMVLMKernels
import Foundation
import MVLMGraph
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// `mvlm_attention` (scores and probabilities x values through the float GEMM) at every kernel
/// level against a Double-precision reference, causal and not, with a cache (`past`), grouped-query
/// heads and head sizes that are not a multiple of 8; the same for the decode kernel
/// (`mvlm_attention_rows`); and `AttentionKernel.run` / `runRows` (2 threads) against the Swift
/// `Kernels.attention`.
@Suite("C attention kernel")
struct AttentionKernelTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let tokens: Int, past: Int, heads: Int, kvHeads: Int, d: Int, causal: Bool
        var testDescription: String { "T=\(tokens) past=\(past) heads=\(heads)/\(kvHeads) d=\(d)\(causal ? " causal" : "")" }
    }

    static let cases = [
        Case(tokens: 1, past: 0, heads: 2, kvHeads: 2, d: 64, causal: true),
        Case(tokens: 5, past: 3, heads: 4, kvHeads: 2, d: 40, causal: true),
        Case(tokens: 77, past: 0, heads: 2, kvHeads: 1, d: 128, causal: true),
        Case(tokens: 40, past: 10, heads: 3, kvHeads: 3, d: 64, causal: false),
        Case(tokens: 33, past: 0, heads: 2, kvHeads: 2, d: 8, causal: false),
    ]

    static func inputs(_ c: Case) -> (q: [Float], k: [Float], v: [Float]) {
        var rng = SeededRandom(seed: UInt64(c.tokens * 31 + c.past * 7 + c.d))
        let keys = c.past + c.tokens
        let q = (0..<(c.tokens * c.heads * c.d)).map { _ in Float.random(in: -2...2, using: &rng) }
        let k = (0..<(keys * c.kvHeads * c.d)).map { _ in Float.random(in: -2...2, using: &rng) }
        let v = (0..<(keys * c.kvHeads * c.d)).map { _ in Float.random(in: -1...1, using: &rng) }
        return (q, k, v)
    }

    static func reference(_ c: Case, _ q: [Float], _ k: [Float], _ v: [Float], scale: Float) -> [Double] {
        var out = [Double](repeating: 0, count: c.tokens * c.heads * c.d)
        let keys = c.past + c.tokens, group = c.heads / c.kvHeads
        for t in 0..<c.tokens {
            for h in 0..<c.heads {
                let kv = h / group
                let visible = c.causal ? c.past + t + 1 : keys
                var scores = (0..<visible).map { j in
                    (0..<c.d).reduce(0.0) { $0 + Double(q[(t * c.heads + h) * c.d + $1]) * Double(k[(j * c.kvHeads + kv) * c.d + $1]) } * Double(scale)
                }
                let maximum = scores.max()!
                scores = scores.map { exp($0 - maximum) }
                let total = scores.reduce(0, +)
                for i in 0..<c.d {
                    out[(t * c.heads + h) * c.d + i] = (0..<visible).reduce(0.0) { $0 + scores[$1] * Double(v[($1 * c.kvHeads + kv) * c.d + i]) } / total
                }
            }
        }
        return out
    }

    @Test("matches the Double reference at every level", arguments: cases)
    func matchesReference(c: Case) throws {
        let (q, k, v) = Self.inputs(c)
        let scale = 1 / Float(c.d).squareRoot()
        let expected = Self.reference(c, q, k, v, scale: scale)
        let items = c.heads * ((c.tokens + 31) / 32)
        var scratch = [Float](repeating: .nan, count: Int(mvlm_attention_scratch_count(Int64(c.tokens), Int64(c.past), Int64(c.d))))
        for level in MatrixMultiplyTests.levels {
            MatrixMultiplyTests.atLevel(level) {
                var out = [Float](repeating: .nan, count: c.tokens * c.heads * c.d)
                // Two calls over the items, as two threads would share them.
                for range in [0..<(items / 2), (items / 2)..<items] {
                    mvlm_attention(
                        q, k, v, &out, Int64(c.tokens), Int64(c.past), Int64(c.heads), Int64(c.kvHeads), Int64(c.d), scale,
                        c.causal ? 1 : 0, Int64(range.lowerBound), Int64(range.upperBound), &scratch)
                }
                let worst = zip(out, expected).map { abs(Double($0) - $1) }.max() ?? 0
                // Scores carry at most d·2⁻²⁴·Σ|q·k| of rounding; |v| ≤ 1.
                #expect(worst <= 1e-5, "level \(level) \(c.testDescription): max |error| \(worst)")
            }
        }
    }

    /// The decode kernel's cases: one or a few query rows, long caches, head sizes that are not a
    /// multiple of 16 (masked tails) or of 8 (scalar tails), and 72 and 160 (two column runs).
    static let rowCases = cases + [
        Case(tokens: 1, past: 300, heads: 4, kvHeads: 2, d: 128, causal: true),
        Case(tokens: 3, past: 17, heads: 2, kvHeads: 2, d: 72, causal: true),
        Case(tokens: 2, past: 5, heads: 2, kvHeads: 1, d: 160, causal: true),
        Case(tokens: 1, past: 9, heads: 3, kvHeads: 3, d: 13, causal: false),
        Case(tokens: 2, past: 2, heads: 2, kvHeads: 2, d: 4, causal: true),
    ]

    @Test("mvlm_attention_rows matches the Double reference at every level", arguments: rowCases)
    func rowsMatchReference(c: Case) throws {
        let (q, k, v) = Self.inputs(c)
        let scale = 1 / Float(c.d).squareRoot()
        let expected = Self.reference(c, q, k, v, scale: scale)
        let items = c.tokens * c.heads
        var scratch = [Float](repeating: .nan, count: Int(mvlm_attention_rows_scratch_count(Int64(c.tokens), Int64(c.past))))
        for level in MatrixMultiplyTests.levels {
            MatrixMultiplyTests.atLevel(level) {
                var out = [Float](repeating: .nan, count: c.tokens * c.heads * c.d)
                // Items split as threads would take them: halves, and a single first and last item
                // around the rest.
                let cuts = [[0, items / 2, items], [0, 1, max(items - 1, 1), items]]
                for cut in cuts {
                    for (start, end) in zip(cut, cut.dropFirst()) where start < end {
                        mvlm_attention_rows(
                            q, k, v, &out, Int64(c.tokens), Int64(c.past), Int64(c.heads), Int64(c.kvHeads), Int64(c.d), scale,
                            c.causal ? 1 : 0, Int64(start), Int64(end), &scratch)
                    }
                    let worst = zip(out, expected).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(worst <= 1e-5, "level \(level) \(c.testDescription) cut \(cut): max |error| \(worst)")
                    out = [Float](repeating: .nan, count: out.count)
                }
            }
        }
    }

    /// `AttentionKernel.run` (the matrix route) on a 70-token prefill and `runRows` on a decode
    /// step over 200 cached positions.
    @Test("AttentionKernel.run and .runRows (2 threads) agree with Kernels.attention", arguments: [false, true])
    func agreesWithSwift(rows: Bool) {
        let c = rows
            ? Case(tokens: 1, past: 200, heads: 16, kvHeads: 16, d: 128, causal: true)
            : Case(tokens: 70, past: 6, heads: 4, kvHeads: 2, d: 64, causal: true)
        let (q, k, v) = Self.inputs(c)
        let parameters = AttentionParameters(heads: c.heads, keyValueHeads: c.kvHeads, headDimension: c.d, scale: 0.125, cacheSlot: 0)
        var native = [Float](repeating: .nan, count: q.count), swift = native
        if rows {
            AttentionKernel.runRows(q: q, keys: k, values: v, output: &native, tokens: c.tokens, past: c.past, parameters: parameters, threads: 2)
        } else {
            AttentionKernel.run(q: q, keys: k, values: v, output: &native, tokens: c.tokens, past: c.past, parameters: parameters, threads: 2)
        }
        Kernels.attention(q: q, keys: k, values: v, output: &swift, tokens: c.tokens, past: c.past, parameters: parameters, threads: 2)
        let worst = zip(native, swift).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "\(c.testDescription): max |difference| \(worst)")
    }
}
