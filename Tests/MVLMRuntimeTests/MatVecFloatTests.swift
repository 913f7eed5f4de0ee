import CMVLMKernels
import Foundation
import MVLMCore
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// `mvlm_matvec_float` (decode of f32 / f16 / bf16 weights) at every kernel level against a
/// Double-precision product of the stored values: row counts that leave 1-3 rows after the groups
/// of four, input counts that leave vector tails, row strides wider than the row, and f16
/// subnormal, zero and largest-finite weights.
@Suite("C float decode kernel")
struct MatVecFloatTests {
    static let shapes: [(rows: Int, k: Int)] = [(1, 1), (7, 37), (16, 256), (5, 1000), (9, 15)]

    @Test("matches the Double reference at every level", arguments: [DType.float32, .float16, .bfloat16])
    func matchesReference(dtype: DType) throws {
        for (rows, k) in Self.shapes {
            var rng = SeededRandom(seed: UInt64(rows * 131 + k))
            let ldw = k + 3  // rows padded: the stride is not the row length
            var values = (0..<(rows * ldw)).map { _ in Float.random(in: -2...2, using: &rng) }
            if dtype == .float16 && values.count >= 4 {
                values[0] = 3e-6  // subnormal in f16
                values[1] = 0
                values[2] = 65504  // largest finite f16
                values[3] = -6e-8
            }
            let weight = try makeTensor(values, shape: [rows, ldw], dtype: dtype)
            let stored = try weight.floatValues()
            let x = (0..<k).map { _ in Float.random(in: -1...1, using: &rng) }
            let expected = (0..<rows).map { r in (0..<k).reduce(0.0) { $0 + Double(stored[r * ldw + $1]) * Double(x[$1]) } }
            let bound = (0..<rows).map { r in (0..<k).reduce(0.0) { $0 + abs(Double(stored[r * ldw + $1]) * Double(x[$1])) } }
            let type = Int32(dtype == .float16 ? MVLM_WEIGHT_F16 : dtype == .bfloat16 ? MVLM_WEIGHT_BF16 : MVLM_WEIGHT_F32)
            for level in MatrixMultiplyTests.levels {
                try MatrixMultiplyTests.atLevel(level) {
                    var y = [Float](repeating: .nan, count: rows)
                    weight.withUnsafeBytes { w in
                        // Two calls, as two threads would split the rows.
                        for range in [0..<(rows / 2), (rows / 2)..<rows] {
                            mvlm_matvec_float(type, w.baseAddress!, Int64(ldw), Int64(range.lowerBound), Int64(range.upperBound), x, Int64(k), &y)
                        }
                    }
                    for r in 0..<rows {
                        let error = abs(Double(y[r]) - expected[r])
                        #expect(error <= Double(k) * 0x1p-24 * bound[r] + 1e-30, "\(dtype.name) level \(level) \(rows)x\(k) row \(r): \(y[r]) vs \(expected[r])")
                    }
                    _ = try #require(y.allSatisfy { $0.isFinite })
                }
            }
        }
    }

    @Test("LinearKernel's decode in C agrees with its Swift path", arguments: [DType.float32, .float16, .bfloat16])
    func agreesWithSwift(dtype: DType) throws {
        let tokens = 2, k = 300, n = 45
        var rng = SeededRandom(seed: 17)
        let weight = try makeTensor((0..<(n * k)).map { _ in Float.random(in: -1...1, using: &rng) }, shape: [n, k], dtype: dtype)
        let x = (0..<(tokens * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let bias = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        func run(_ native: Bool) throws -> [Float] {
            var y = [Float](repeating: .nan, count: tokens * n)
            try x.withUnsafeBufferPointer { xs in
                try bias.withUnsafeBufferPointer { b in
                    try y.withUnsafeMutableBufferPointer { out in
                        var kernel = LinearKernel(x: xs.baseAddress!, tokens: tokens, inputs: k, outputs: n, bias: b.baseAddress!, y: out.baseAddress!, threads: 2)
                        kernel.nativeKernels = native
                        try weight.apply(kernel)
                    }
                }
            }
            return y
        }
        let native = try run(true), swift = try run(false)
        let worst = zip(native, swift).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4, "max |difference| \(worst)")
    }
}
