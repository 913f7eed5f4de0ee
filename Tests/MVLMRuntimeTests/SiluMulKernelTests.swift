import CMVLMKernels
import Foundation
import MVLMTestSupport
import Testing

/// `mvlm_silu_mul` at every kernel level against a Double-precision silu(g) · u, over the range
/// activations take and past it (exp overflow and underflow), with lengths that leave vector tails,
/// and in place (`out` = `g`).
@Suite("C SiLU-multiply kernel")
struct SiluMulKernelTests {
    @Test("matches the Double reference at every level", arguments: [1, 7, 16, 33, 1000])
    func matchesReference(count: Int) {
        var rng = SeededRandom(seed: UInt64(count))
        var g = (0..<count).map { _ in Float.random(in: -12...12, using: &rng) }
        let specials: [Float] = [0, -0.0, 1e-30, -1e-30, 88, -88, 100, -100, 1e30, -1e30, 20, -20]
        for (i, value) in specials.enumerated() where i < count { g[i] = value }
        let u = (0..<count).map { _ in Float.random(in: -3...3, using: &rng) }
        let expected = zip(g, u).map { g, u in Double(g) / (1 + exp(-Double(g))) * Double(u) }
        for level in MatrixMultiplyTests.levels {
            MatrixMultiplyTests.atLevel(level) {
                var out = [Float](repeating: .nan, count: count)
                mvlm_silu_mul(g, u, &out, Int64(count))
                var inPlace = g
                inPlace.withUnsafeMutableBufferPointer { mvlm_silu_mul($0.baseAddress!, u, $0.baseAddress!, Int64(count)) }
                #expect(out == inPlace, "level \(level): in place differs")
                for i in 0..<count {
                    let error = abs(Double(out[i]) - expected[i])
                    // A few ulp of the result (relative), or an absolute 1e-37 for results that
                    // underflow (silu(-100) · u ≈ -4e-42).
                    #expect(error <= max(abs(expected[i]) * 6e-7, 1e-37), "level \(level) g=\(g[i]) u=\(u[i]): \(out[i]) vs \(expected[i])")
                }
            }
        }
    }
}
