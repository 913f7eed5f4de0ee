import CMVLMKernels
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The C decode kernels (portable and AVX2) against a plain Swift reference: the weights
/// dequantized by `BlockDequantizer`, the activations quantized to Q8_0 by MVLMQuant's
/// gguf-py-identical quantizer and dequantized again, and a Double-precision dot product.
@Suite("C decode kernels (Q4_0, Q8_0, Q4_K, Q6_K x Q8_0 activations)", .serialized)
struct QuantizedMatVecTests {
    static let cases: [(BlockType, BlockFormatTests.Pattern)] = [BlockType.q4_0, .q8_0, .q4_K, .q6_K].flatMap { type in
        BlockFormatTests.Pattern.allCases.map { (type, $0) }
    }

    @Test("activations are quantized exactly like the Q8_0 reference quantizer, at every level")
    func activationQuantization() throws {
        var rng = SeededRandom(seed: 11)
        var x = (0..<(32 * 40)).map { index in index % 97 == 0 ? 0 : Float.random(in: -3...3, using: &rng) * (index % 5 == 0 ? 100 : 1) }
        // Adversarial blocks: products exactly halfway between integers (max 127, so 1 / d = 1),
        // all equal, all zero, subnormal, huge, a lone negative maximum.
        let halfway: [Float] = (0..<32).map { i in
            let sign: Float = i % 2 == 0 ? 1 : -1
            return i == 0 ? 127 : sign * (Float(i * 4) + 0.5)
        }
        let subnormal: [Float] = (0..<32).map { i in
            let value = Float(bitPattern: UInt32(1 + i * 977))
            return i % 3 == 0 ? -value : value
        }
        let huge: [Float] = (0..<32).map { i in Float(i - 16) * 3e36 }
        let negativeMaximum: [Float] = (0..<32).map { i in i == 7 ? -50 : Float(i) * 0.37 }
        x += halfway
        x += [Float](repeating: -2.75, count: 32)
        x += [Float](repeating: 0, count: 32)
        x += subnormal
        x += huge
        x += negativeMaximum
        let blocks = x.count / 32
        let reference = try QuantizationScheme.q8_0.quantize(x)
        for level in MatrixMultiplyTests.levels {
            MatrixMultiplyTests.atLevel(level) {
                var ours = [UInt8](repeating: 0xAA, count: blocks * 34)
                var sums = [Int32](repeating: .min, count: blocks)
                ours.withUnsafeMutableBytes { out in sums.withUnsafeMutableBufferPointer { mvlm_quantize_q8_0(x, out.baseAddress!, $0.baseAddress!, Int64(x.count)) } }
                #expect(ours == reference, "level \(level)")
                // The block sums are the sums of each block's stored int8 values.
                for block in 0..<blocks {
                    let values = reference[(block * 34 + 2)..<(block * 34 + 34)].map { Int32(Int8(bitPattern: $0)) }
                    #expect(sums[block] == values.reduce(0, +), "level \(level) block \(block)")
                }
            }
        }
    }

    @Test("portable and AVX2 kernels match the reference", arguments: cases)
    func matvec(type: BlockType, pattern: BlockFormatTests.Pattern) throws {
        let columns = 256 * 3, rows = 37
        let scales = BlockFormatTests.types.first { $0.0 == type }!.1
        let bytes = BlockFormatTests.blocks(type, scales: scales, rows: rows, columns: columns, pattern: pattern, seed: 5)
        let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: rows * columns)
        var rng = SeededRandom(seed: 9)
        let x = (0..<columns).map { _ in Float.random(in: -2...2, using: &rng) }
        let xq = try QuantizationScheme.q8_0.quantize(x)
        let xsum = (0..<(columns / 32)).map { block in xq[(block * 34 + 2)..<(block * 34 + 34)].reduce(Int32(0)) { $0 + Int32(Int8(bitPattern: $1)) } }
        let xBack = try BlockDequantizer.dequantize(.q8_0, bytes: xq, count: columns)
        let rowBytes = columns / type.blockElements * type.blockBytes
        for level in [0, 1] {
            let used = mvlm_kernels_set_level(Int32(level))
            defer { mvlm_kernels_set_level(-1) }
            var y = [Float](repeating: .nan, count: rows)
            bytes.withUnsafeBytes { w in
                xq.withUnsafeBytes { q in
                    xsum.withUnsafeBufferPointer { sums in
                        y.withUnsafeMutableBufferPointer { out in
                            mvlm_matvec_q8(
                                QuantizedMatVec.kernelType(type)!, w.baseAddress!, rowBytes, 0, Int64(rows), q.baseAddress!, sums.baseAddress!,
                                Int64(columns), out.baseAddress!)
                        }
                    }
                }
            }
            Self.expectReference(y, weights: weights, x: xBack, label: "level \(used) \(type.name) \(pattern)")
        }
    }

    /// Checks `y[n]` against Σ_k weights[n, k] · x[k] in Double: within 1e-5 of Σ|w·x|, or
    /// non-finite where the exact sum is.
    static func expectReference(_ y: [Float], weights: [Float], x: [Float], label: String) {
        let columns = x.count
        for n in 0..<y.count {
            var exact = 0.0, magnitude = 0.0
            for k in 0..<columns {
                let product = Double(weights[n * columns + k]) * Double(x[k])
                exact += product
                magnitude += abs(product)
            }
            let got = Double(y[n])
            if exact.isFinite {
                #expect(abs(got - exact) <= 1e-5 * magnitude + 1e-30, "\(label) row \(n): \(got) vs \(exact)")
            } else {
                #expect(!got.isFinite, "\(label) row \(n)")
            }
        }
    }

    @Test("through the interpreter's path: y = x·Wᵀ within the 8-bit activation bound")
    func throughRun() throws {
        guard QuantizedMatVec.isAvailable else { return }  // the Swift SIMD path runs instead (BlockFormatTests)
        let columns = 32 * 18, rows = 41
        let bytes = BlockFormatTests.blocks(.q8_0, scales: [0], rows: rows, columns: columns, pattern: .random, seed: 2)
        let weights = try BlockDequantizer.dequantize(.q8_0, bytes: bytes, count: rows * columns)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(.q8_0), shape: [rows, columns])
        var rng = SeededRandom(seed: 4)
        let x = (0..<(2 * columns)).map { _ in Float.random(in: -1...1, using: &rng) }
        let bias = (0..<rows).map { Float($0) * 0.25 }
        var y = [Float](repeating: .nan, count: 2 * rows)
        #expect(QuantizedMatVec.applies(to: tensor, tokens: 2))
        x.withUnsafeBufferPointer { xs in
            bias.withUnsafeBufferPointer { b in
                y.withUnsafeMutableBufferPointer { out in
                    QuantizedMatVec.run(weight: tensor, x: xs.baseAddress!, tokens: 2, bias: b.baseAddress!, y: out.baseAddress!, threads: 2)
                }
            }
        }
        for t in 0..<2 {
            for n in 0..<rows {
                var exact = Double(bias[n]), bound = 0.0
                for k in 0..<columns {
                    let w = Double(weights[n * columns + k])
                    exact += w * Double(x[t * columns + k])
                    bound += abs(w) * (1.0 / 254 + 1e-6)  // |x| ≤ 1: half a step of max|x|/127 per activation
                }
                #expect(abs(Double(y[t * rows + n]) - exact) <= bound, "token \(t) row \(n): \(y[t * rows + n]) vs \(exact)")
            }
        }
    }
}
