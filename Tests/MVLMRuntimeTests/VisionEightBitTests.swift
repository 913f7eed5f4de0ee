import CMVLMKernels
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The vision encoder's 8-bit products (`Interpreter.eightBitActivations`): Q8_0 / INT8_B32 weights
/// times activations quantized to Q8_0 blocks, through `QuantizedMatVec.run` as the interpreter
/// calls it, at every kernel level, against a Double reference built from MVLMQuant's quantizer and
/// dequantizer (not the C code): 577 tokens as CLIP ViT-L/14-336 has, an odd number of outputs and
/// of blocks, and hostile activations (zero blocks, scales whose reciprocal overflows, rounding ties,
/// saturating magnitudes).
@Suite("Vision encoder: 8-bit weights times 8-bit activations")
struct VisionEightBitTests {
    @Test("Q8_0 and INT8_B32 prefill take 8-bit activations only when the interpreter asks for them")
    func routing() throws {
        guard QuantizedMatVec.isAvailable else { return }
        for type in [BlockType.q8_0, .int8Block32] {
            let tensor = try Tensor(
                storage: TensorStorage(copying: UnsafeRawBufferPointer(start: nil, count: 0)), dtype: .block(type), shape: [0, 256])
            #expect(!QuantizedMatVec.applies(to: tensor, tokens: 577), "\(type.name) decoder prefill keeps f32 activations")
            #expect(QuantizedMatVec.applies(to: tensor, tokens: 577, eightBitActivations: true), "\(type.name) vision prefill")
        }
        let f16 = try Tensor(
            storage: TensorStorage(copying: UnsafeRawBufferPointer(start: nil, count: 0)), dtype: .float16, shape: [0, 256])
        #expect(!QuantizedMatVec.applies(to: f16, tokens: 577, eightBitActivations: true), "a float weight keeps the float GEMM")
    }

    @Test("577 tokens x Q8_0 through QuantizedMatVec.run match the Double reference at every level", arguments: [BlockType.q8_0, .int8Block32])
    func product(type: BlockType) throws {
        guard QuantizedMatVec.isAvailable else { return }
        let tokens = 577, inputs = 160, outputs = 37  // 5 blocks per row; 577 = 72 tiles of 8 + 1
        var bytes = BlockFormatTests.blocks(.q8_0, scales: [0], rows: outputs, columns: inputs, pattern: .random, seed: 31)
        // Rows of saturated weights (every q = 127 or -128) under a large scale.
        for row in [0, outputs - 1] {
            for block in 0..<(inputs / 32) {
                let at = (row * inputs / 32 + block) * 34
                bytes[at] = 0x00
                bytes[at + 1] = 0x5C  // f16 256
                for i in 0..<32 { bytes[at + 2 + i] = row == 0 ? 0x7F : 0x80 }
            }
        }
        let weights = try BlockDequantizer.dequantize(.q8_0, bytes: bytes, count: outputs * inputs)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [outputs, inputs])
        var rng = SeededRandom(seed: 577)
        var x = MatrixMultiplyTests.activations(tokens: tokens, inputs: inputs, rng: &rng)
        for i in 0..<inputs { x[(tokens - 1) * inputs + i] = i % 2 == 0 ? 6e4 : -6e4 }  // saturating row
        var xBack = [Float]()
        for t in 0..<tokens {
            let q = try QuantizationScheme.q8_0.quantize(Array(x[(t * inputs)..<((t + 1) * inputs)]))
            xBack += try BlockDequantizer.dequantize(.q8_0, bytes: q, count: inputs)
        }
        let bias = (0..<outputs).map { Float($0) - 18.5 }
        #expect(QuantizedMatVec.applies(to: tensor, tokens: tokens, eightBitActivations: true))
        for level in MatrixMultiplyTests.levels {
            var y = [Float](repeating: .nan, count: tokens * outputs)
            MatrixMultiplyTests.atLevel(level) {
                x.withUnsafeBufferPointer { xs in
                    bias.withUnsafeBufferPointer { b in
                        y.withUnsafeMutableBufferPointer { out in
                            // One thread: the level is set for the calling thread only.
                            QuantizedMatVec.run(
                                weight: tensor, x: xs.baseAddress!, tokens: tokens, bias: b.baseAddress!, y: out.baseAddress!, threads: 1)
                        }
                    }
                }
            }
            var failures = 0
            for t in 0..<tokens {
                for n in 0..<outputs {
                    var exact = Double(bias[n]), magnitude = abs(exact)
                    for k in 0..<inputs {
                        let product = Double(weights[n * inputs + k]) * Double(xBack[t * inputs + k])
                        exact += product
                        magnitude += abs(product)
                    }
                    let got = Double(y[t * outputs + n])
                    if !(abs(got - exact) <= 1e-5 * magnitude + 1e-30) {
                        failures += 1
                        if failures <= 3 { Issue.record("level \(level) \(type.name) token \(t) row \(n): \(got) vs \(exact)") }
                    }
                }
            }
            #expect(failures == 0, "level \(level) \(type.name)")
        }
    }
}
