import CMVLMKernels
import MVLMCore
import MVLMGraph
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

/// The encoder's vectorized elementwise kernels against plain Double loops: LayerNorm over 577 rows
/// of an odd width (8-lane body and scalar tail), rows with a large common offset (the two-pass
/// variance must not cancel), a constant row (zero variance) and saturating magnitudes; residual
/// adds of the same shape, which must equal the scalar sum exactly.
@Suite("Vision encoder: vectorized LayerNorm and residual add")
struct VisionElementwiseTests {
    @Test("LayerNorm over 577 rows matches the Double reference", arguments: [1024, 1027, 7])
    func layerNorm(width: Int) throws {
        let rows = 577
        var rng = SeededRandom(seed: UInt64(width))
        var x = (0..<(rows * width)).map { _ in Float.random(in: -3...3, using: &rng) }
        for i in 0..<width {
            x[i] += 1e4  // row 0: a large common offset
            x[width + i] = 2.5  // row 1: constant, zero variance
            x[2 * width + i] = i % 2 == 0 ? 3e17 : -3e17  // row 2: huge magnitudes (squares near the f32 limit)
        }
        let weight = (0..<width).map { _ in Float.random(in: -2...2, using: &rng) }
        let bias = (0..<width).map { _ in Float.random(in: -1...1, using: &rng) }
        let epsilon: Float = 1e-5
        var y = [Float](repeating: .nan, count: rows * width)
        x.withUnsafeBufferPointer { xs in
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { out in
                        Kernels.layerNorm(
                            xs.baseAddress!, rows: rows, width: width, weight: w.baseAddress!, bias: b.baseAddress!, epsilon: epsilon,
                            into: out.baseAddress!, threads: 2)
                    }
                }
            }
        }
        var failures = 0
        for r in 0..<rows {
            let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(width)
            let scale = 1 / (variance + Double(epsilon)).squareRoot()
            for i in 0..<width {
                let exact = (row[i] - mean) * scale * Double(weight[i]) + Double(bias[i])
                let got = Double(y[r * width + i])
                // f32 arithmetic on normalized values: a few ulps of |weight| + |bias|, and the
                // offset row's inputs are only known to 1e4 · 2^-24.
                let bound = 1e-5 * (abs(Double(weight[i])) + abs(Double(bias[i]))) + (r == 0 ? 2e-3 * abs(Double(weight[i])) : 0)
                if !(abs(got - exact) <= bound) {
                    failures += 1
                    if failures <= 3 { Issue.record("width \(width) row \(r) column \(i): \(got) vs \(exact)") }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("a residual add of the same shape equals the scalar sum exactly")
    func residualAdd() throws {
        var rng = SeededRandom(seed: 9)
        let shape = [577, 1027]
        let count = shape.reduce(1, *)
        var a = (0..<count).map { _ in Float.random(in: -1e3...1e3, using: &rng) }
        let b = (0..<count).map { _ in Float.random(in: -1e-3...1e-3, using: &rng) }
        a[5] = .greatestFiniteMagnitude  // overflows to +inf when added to a positive b
        var g = GraphBuilder()
        let x = try g.input("a", TensorType(.float32, shape: shape))
        let z = try g.input("b", TensorType(.float32, shape: shape))
        g.output("y", try g.add(.add, [x, z]))
        var interpreter = try Interpreter(graph: try g.build(), weights: [:], threads: 2)
        let y = try #require(try interpreter.run(
            ["a": .floats(Activation(shape: shape, values: a)), "b": .floats(Activation(shape: shape, values: b))], outputs: ["y"])["y"])
        let expected = zip(a, b).map { $0 + $1 }
        #expect(y.values.elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }
}
