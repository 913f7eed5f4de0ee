import CMVLMKernels
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// Q5_0, Q4_1 and Q5_1 through the interpreter's path (`QuantizedMatVec.run`: `mvlm_matvec_legacy` for
/// decode, `mvlm_gemm_legacy` for prefill) at every kernel level this CPU has, against the weights
/// dequantized by `BlockDequantizer` and a Double dot product with the original f32 activations:
/// the 8-bit activations move each product by at most half a quantization step (max|x| / 254 per
/// block of 32). Hostile blocks come from `BlockFormatTests.Pattern` (saturated nibbles and fifth
/// bits, ±60000 scales, subnormal scales); the kernel-level tests with exact integer checks are
/// Tests/ARMKernels/test_legacy.c.
@Suite("C kernels for Q5_0, Q4_1 and Q5_1 (decode and prefill)", .serialized)
struct LegacyKernelTests {
    static let cases: [(BlockType, BlockFormatTests.Pattern, Int)] = [BlockType.q5_0, .q4_1, .q5_1].flatMap { type in
        BlockFormatTests.Pattern.allCases.flatMap { pattern in [1, 3, 4, 13].map { (type, pattern, $0) } }
    }

    @Test("decode and prefill match the dequantized weights at every level", arguments: cases)
    func matchesReference(type: BlockType, pattern: BlockFormatTests.Pattern, tokens: Int) throws {
        let columns = 32 * 18, rows = 83  // SmolLM2's 576 inputs; an odd row count, more than one 64-row tile
        let scales = type == .q5_0 ? [0] : [0, 2]
        let bytes = BlockFormatTests.blocks(type, scales: scales, rows: rows, columns: columns, pattern: pattern, seed: 23)
        let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: rows * columns)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [rows, columns])
        #expect(QuantizedMatVec.applies(to: tensor, tokens: tokens) == QuantizedMatVec.isAvailable)
        guard QuantizedMatVec.isAvailable else { return }
        var rng = SeededRandom(seed: 7)
        let x = (0..<(tokens * columns)).map { index in index % 61 == 0 ? 0 : Float.random(in: -1...1, using: &rng) }
        let bias = (0..<rows).map { Float($0) * 0.125 - 3 }
        for level in 0...Int(mvlm_kernels_max_level()) {
            let used = mvlm_kernels_set_level(Int32(level))
            defer { mvlm_kernels_set_level(-1) }
            guard used == Int32(level) else { continue }  // above the detected level
            var y = [Float](repeating: .nan, count: tokens * rows)
            x.withUnsafeBufferPointer { xs in
                bias.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { out in
                        QuantizedMatVec.run(weight: tensor, x: xs.baseAddress!, tokens: tokens, bias: b.baseAddress!, y: out.baseAddress!, threads: 2)
                    }
                }
            }
            for t in 0..<tokens {
                for n in 0..<rows {
                    var exact = Double(bias[n]), bound = 0.0
                    for k in 0..<columns {
                        let w = Double(weights[n * columns + k])
                        exact += w * Double(x[t * columns + k])
                        // |x| ≤ 1: half a step of max|x| / 127 per activation, plus f32 rounding.
                        bound += abs(w) * (1.0 / 254 + 1e-5)
                    }
                    let got = Double(y[t * rows + n])
                    if exact.isFinite {
                        #expect(abs(got - exact) <= bound + 1e-30, "level \(used) \(type.name) \(pattern) tokens \(tokens) row \(n): \(got) vs \(exact)")
                    } else {
                        #expect(!got.isFinite, "level \(used) \(type.name) \(pattern) tokens \(tokens) row \(n)")
                    }
                }
            }
        }
    }
}
