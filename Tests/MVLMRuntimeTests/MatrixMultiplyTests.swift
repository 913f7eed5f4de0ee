import CMVLMKernels
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The C prefill kernels (`mvlm_gemm_float`, `mvlm_gemm_q8`) at every level this CPU runs
/// (portable C, AVX2, AVX-512), against plain Swift references in Double precision: widened float
/// weights, or weights dequantized by `BlockDequantizer` with activations quantized by MVLMQuant's
/// gguf-py-identical Q8_0 quantizer and dequantized again. Shapes include token counts that are not
/// a multiple of the 8-token tile, inputs that are not a multiple of the 8- or 128-input panel,
/// and outputs that are not a multiple of the 16- or 32-row panel.
@Suite("C matrix x matrix kernels (prefill: float and 8-bit activations)")
struct MatrixMultiplyTests {
    /// Kernel levels this CPU runs; each test forces them on its own thread only.
    static let levels: [Int32] = {
        let top = mvlm_kernels_set_thread_level(mvlm_kernels_max_level())
        mvlm_kernels_set_thread_level(-1)
        return Array(0...top)
    }()

    /// Runs `body` with the kernels of `level` on this thread.
    static func atLevel(_ level: Int32, _ body: () throws -> Void) rethrows {
        let used = mvlm_kernels_set_thread_level(level)
        defer { mvlm_kernels_set_thread_level(-1) }
        precondition(used == level, "level \(level) is not available")
        try body()
    }

    struct Shape: CustomTestStringConvertible, Sendable {
        let tokens: Int, inputs: Int, outputs: Int, bias: Bool
        var testDescription: String { "T=\(tokens) K=\(inputs) N=\(outputs)\(bias ? " +bias" : "")" }
    }

    // MARK: Float weights

    static let floatShapes: [Shape] = [
        Shape(tokens: 4, inputs: 64, outputs: 32, bias: false),
        Shape(tokens: 5, inputs: 100, outputs: 37, bias: true),
        Shape(tokens: 17, inputs: 1000, outputs: 77, bias: false),
        Shape(tokens: 577, inputs: 96, outputs: 130, bias: true),
        Shape(tokens: 6, inputs: 4096, outputs: 40, bias: true),
        Shape(tokens: 33, inputs: 257, outputs: 48, bias: false),
        Shape(tokens: 9, inputs: 7, outputs: 20, bias: true),
        Shape(tokens: 8, inputs: 0, outputs: 3, bias: true),
    ]

    static let floatCases: [(DType, Shape)] = [DType.float32, .float16, .bfloat16].flatMap { dtype in
        floatShapes.map { (dtype, $0) }
    }

    /// Weight bits of `dtype` (random finite values over a wide range, f16 subnormals included)
    /// and their exact f32 values.
    static func floatWeights(_ dtype: DType, count: Int, rng: inout SeededRandom) -> (bytes: [UInt8], values: [Float]) {
        switch dtype {
        case .float16:
            let bits = (0..<count).map { index -> UInt16 in
                switch index % 11 {
                case 0: return UInt16.random(in: 1...0x3FF, using: &rng) | (index % 2 == 0 ? 0 : 0x8000)  // subnormal
                case 1: return 0
                default: return UInt16.random(in: 0...0x7BFF, using: &rng) | (Bool.random(using: &rng) ? 0x8000 : 0)
                }
            }
            return (bits.withUnsafeBytes { Array($0) }, bits.map { HalfPrecision.float(fromFloat16Bits: $0) })
        case .bfloat16:
            let bits = (0..<count).map { _ in
                HalfPrecision.bfloat16Bits(from: Float.random(in: -2...2, using: &rng) * (Bool.random(using: &rng) ? 1e-3 : 1))
            }
            return (bits.withUnsafeBytes { Array($0) }, bits.map { HalfPrecision.float(fromBFloat16Bits: $0) })
        default:
            let values = (0..<count).map { index in index % 13 == 0 ? 0 : Float.random(in: -1...1, using: &rng) * (index % 3 == 0 ? 1e3 : 1) }
            return (values.withUnsafeBytes { Array($0) }, values)
        }
    }

    static func cType(_ dtype: DType) -> Int32 {
        switch dtype {
        case .float16: Int32(MVLM_WEIGHT_F16)
        case .bfloat16: Int32(MVLM_WEIGHT_BF16)
        default: Int32(MVLM_WEIGHT_F32)
        }
    }

    /// `y` against the Double reference: within the bound of one f32 FMA chain per output,
    /// `(K + 2) · 2⁻²⁴ · (Σ|w·x| + |b|)`.
    static func expectFloatClose(
        _ y: [Float], weights: [Float], x: [Float], bias: [Float]?, shape: Shape, _ label: String
    ) {
        let (tokens, inputs, outputs) = (shape.tokens, shape.inputs, shape.outputs)
        var failures = 0
        for t in 0..<tokens {
            for n in 0..<outputs {
                var exact = Double(bias?[n] ?? 0), magnitude = abs(exact)
                for k in 0..<inputs {
                    let product = Double(weights[n * inputs + k]) * Double(x[t * inputs + k])
                    exact += product
                    magnitude += abs(product)
                }
                let got = Double(y[t * outputs + n])
                let bound = Double(inputs + 2) * 0x1p-24 * magnitude + 1e-38
                if !(abs(got - exact) <= bound) {
                    failures += 1
                    if failures <= 3 { Issue.record("\(label) token \(t) row \(n): \(got) vs \(exact) (bound \(bound))") }
                }
            }
        }
        #expect(failures == 0, "\(label): \(failures) outputs outside the bound")
    }

    @Test("float GEMM (f32, f16, bf16 weights) matches the reference at every level", arguments: floatCases)
    func floatGEMM(dtype: DType, shape: Shape) {
        var rng = SeededRandom(seed: UInt64(shape.tokens * 1000 + shape.inputs * 7 + shape.outputs))
        let (stored, weights) = Self.floatWeights(dtype, count: shape.outputs * shape.inputs, rng: &rng)
        let bytes = stored + [0, 0, 0, 0]  // never empty (K = 0), so base addresses exist
        let x = (0..<(shape.tokens * shape.inputs)).map { index in index % 17 == 0 ? 0 : Float.random(in: -1...1, using: &rng) } + [0]
        let bias = shape.bias ? (0..<shape.outputs).map { Float($0) * 0.25 - 3 } : nil
        for level in Self.levels {
            Self.atLevel(level) {
                var y = [Float](repeating: .nan, count: shape.tokens * shape.outputs)
                let count = Int(mvlm_gemm_float_packed_count(Int64(shape.tokens), Int64(shape.inputs)))
                var packed = [Float](repeating: .nan, count: max(count, 1))
                let tiles = Int64((shape.tokens + 7) / 8)
                x.withUnsafeBufferPointer { xs in
                    packed.withUnsafeMutableBufferPointer { xp in
                        // Two calls, as two threads would share the packing.
                        mvlm_gemm_float_pack(xs.baseAddress!, Int64(shape.tokens), Int64(shape.inputs), 0, tiles / 2, xp.baseAddress!)
                        mvlm_gemm_float_pack(xs.baseAddress!, Int64(shape.tokens), Int64(shape.inputs), tiles / 2, tiles, xp.baseAddress!)
                    }
                }
                // Output rows split at a multiple of 32 and at an odd row, as Parallel's chunks may fall.
                let splits = [0, min(32, shape.outputs), min(32 + 13, shape.outputs), shape.outputs]
                bytes.withUnsafeBytes { w in
                    packed.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { out in
                            func run(_ b: UnsafePointer<Float>?) {
                                for index in 0..<(splits.count - 1) {
                                    mvlm_gemm_float(
                                        Self.cType(dtype), w.baseAddress!, Int64(shape.inputs), Int64(splits[index]),
                                        Int64(splits[index + 1]), xp.baseAddress!, Int64(shape.tokens), Int64(shape.inputs), b,
                                        out.baseAddress!, Int64(shape.outputs))
                                }
                            }
                            if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
                        }
                    }
                }
                Self.expectFloatClose(y, weights: weights, x: x, bias: bias, shape: shape, "level \(level) \(dtype.name) \(shape.testDescription)")
            }
        }
    }

    @Test("LinearKernel: f16 prefill through MatrixMultiply (2 threads) and the Swift path agree with the reference")
    func linearKernelPaths() throws {
        let shape = Shape(tokens: 19, inputs: 136, outputs: 101, bias: true)
        var rng = SeededRandom(seed: 3)
        let (bytes, weights) = Self.floatWeights(.float16, count: shape.outputs * shape.inputs, rng: &rng)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .float16, shape: [shape.outputs, shape.inputs])
        let x = (0..<(shape.tokens * shape.inputs)).map { _ in Float.random(in: -1...1, using: &rng) }
        let bias = (0..<shape.outputs).map { Float($0) * 0.5 }
        for native in [true, false] {
            var y = [Float](repeating: .nan, count: shape.tokens * shape.outputs)
            try x.withUnsafeBufferPointer { xs in
                try bias.withUnsafeBufferPointer { b in
                    try y.withUnsafeMutableBufferPointer { out in
                        try tensor.apply(LinearKernel(
                            x: xs.baseAddress!, tokens: shape.tokens, inputs: shape.inputs, outputs: shape.outputs, bias: b.baseAddress!,
                            y: out.baseAddress!, threads: 2, nativeKernels: native && NativeKernels.isEnabled))
                    }
                }
            }
            Self.expectFloatClose(y, weights: weights, x: x, bias: bias, shape: shape, native ? "native" : "swift")
        }
    }

    // MARK: Block-quantized weights, 8-bit activations

    @Test("Q8_0 prefill keeps f32 activations; Q4_0, Q4_K and Q6_K prefill uses the 8-bit kernel")
    func routing() throws {
        guard QuantizedMatVec.isAvailable else { return }
        for (type, quantized) in [(BlockType.q4_0, true), (.q4_K, true), (.q6_K, true), (.q8_0, false), (.int8Block32, false)] {
            let tensor = try Tensor(
                storage: TensorStorage(copying: UnsafeRawBufferPointer(start: nil, count: 0)), dtype: .block(type), shape: [0, 256])
            #expect(QuantizedMatVec.applies(to: tensor, tokens: 1), "\(type.name) decode")
            #expect(QuantizedMatVec.applies(to: tensor, tokens: 4) == quantized, "\(type.name) prefill")
        }
    }

    static let quantizedShapes: [Shape] = [
        Shape(tokens: 4, inputs: 256, outputs: 16, bias: false),
        Shape(tokens: 5, inputs: 512, outputs: 37, bias: true),
        Shape(tokens: 17, inputs: 768, outputs: 33, bias: false),
        Shape(tokens: 77, inputs: 256, outputs: 20, bias: true),
        Shape(tokens: 9, inputs: 4096, outputs: 18, bias: false),
    ]

    static let quantizedCases: [(BlockType, BlockFormatTests.Pattern)] = [BlockType.q4_0, .q8_0, .q4_K, .q6_K].flatMap { type in
        BlockFormatTests.Pattern.allCases.map { (type, $0) }
    }

    /// Activations with adversarial blocks: an all-zero block, one far below 1e-37 (its 1/d
    /// overflows: 2^-130 scale), one of exact half steps (x / d = k + 0.5: rounding ties), large magnitudes.
    static func activations(tokens: Int, inputs: Int, rng: inout SeededRandom) -> [Float] {
        var x = (0..<(tokens * inputs)).map { _ in Float.random(in: -2...2, using: &rng) }
        for t in 0..<tokens {
            let base = t * inputs
            let blocks = inputs / 32
            switch t % 4 {
            case 0: for i in 0..<32 { x[base + i] = 0 }
            case 1: for i in 0..<32 { x[base + i] = Float(i - 16) * 0x1p-130 }  // 1/d overflows
            case 2:  // max 127 so d = 1: values k + 0.5 sit exactly on rounding ties
                for i in 0..<32 { x[base + i] = i == 0 ? 127 : Float(i - 16) + 0.5 }
            default: for i in 0..<32 { x[base + (blocks - 1) * 32 + i] *= 1e4 }
            }
        }
        return x
    }

    @Test("activation packing quantizes exactly like the Q8_0 reference quantizer at every level")
    func activationPacking() throws {
        let tokens = 13, inputs = 96, blocks = inputs / 32
        var rng = SeededRandom(seed: 21)
        let x = Self.activations(tokens: tokens, inputs: inputs, rng: &rng)
        // The packed layout of gemm_q8.c: per tile of 8 tokens and block of 32, 416 bytes holding
        // q[group][token][4] (x86; arm64 orders the same bytes for SMMLA), then f32 d[8], f32 d·Σq[8], i32 -Σq[8], i32 -Σq per half [2][8].
        let tileBytes = blocks * 416
        for level in Self.levels {
            try Self.atLevel(level) {
                var packed = [UInt8](repeating: 0xEE, count: Int(mvlm_gemm_q8_packed_bytes(Int64(tokens), Int64(inputs))))
                x.withUnsafeBufferPointer { xs in
                    packed.withUnsafeMutableBytes { mvlm_gemm_q8_pack(xs.baseAddress!, Int64(tokens), Int64(inputs), 0, 2, $0.baseAddress!) }
                }
                for t in 0..<tokens {
                    let reference = try QuantizationScheme.q8_0.quantize(Array(x[(t * inputs)..<((t + 1) * inputs)]))
                    for b in 0..<blocks {
                        let block = (t / 8) * tileBytes + b * 416, lane = t % 8
                        #if arch(arm64)
                        // arm64: [group pair][token pair][2 tokens][8 bytes], SMMLA's operand.
                        let q = (0..<32).map { packed[block + ($0 / 8) * 64 + (lane / 2) * 16 + (lane % 2) * 8 + $0 % 8] }
                        #else
                        let q = (0..<32).map { packed[block + ($0 / 4) * 32 + lane * 4 + $0 % 4] }
                        #endif
                        #expect(q == Array(reference[(b * 34 + 2)..<(b * 34 + 34)]), "level \(level) token \(t) block \(b)")
                        let d = packed.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: block + 256 + lane * 4, as: Float.self) }
                        let referenceD = HalfPrecision.float(fromFloat16Bits: UInt16(reference[b * 34]) | UInt16(reference[b * 34 + 1]) << 8)
                        #expect(d == referenceD, "level \(level) token \(t) block \(b) scale")
                        let values = q.map { Int32(Int8(bitPattern: $0)) }
                        let sums = packed.withUnsafeBytes { raw in
                            [320, 352, 384].map { raw.loadUnaligned(fromByteOffset: block + $0 + lane * 4, as: Int32.self) }
                        }
                        let low: Int32 = values[0..<16].reduce(0, +), high: Int32 = values[16...].reduce(0, +)
                        #expect(sums == [-(low + high), -low, -high], "level \(level) token \(t) block \(b) sums")
                    }
                }
            }
        }
    }

    @Test("quantized GEMM matches the dequantized reference at every level", arguments: quantizedCases)
    func quantizedGEMM(type: BlockType, pattern: BlockFormatTests.Pattern) throws {
        let scales = BlockFormatTests.types.first { $0.0 == type }!.1
        let code = try #require(QuantizedMatVec.kernelType(type))
        for shape in Self.quantizedShapes {
            let bytes = BlockFormatTests.blocks(type, scales: scales, rows: shape.outputs, columns: shape.inputs, pattern: pattern, seed: UInt64(shape.inputs))
            let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: shape.outputs * shape.inputs)
            var rng = SeededRandom(seed: UInt64(shape.tokens))
            let x = Self.activations(tokens: shape.tokens, inputs: shape.inputs, rng: &rng)
            var xBack = [Float]()
            for t in 0..<shape.tokens {
                let q = try QuantizationScheme.q8_0.quantize(Array(x[(t * shape.inputs)..<((t + 1) * shape.inputs)]))
                xBack += try BlockDequantizer.dequantize(.q8_0, bytes: q, count: shape.inputs)
            }
            let bias = shape.bias ? (0..<shape.outputs).map { Float($0) - 7.5 } : nil
            let rowBytes = shape.inputs / type.blockElements * type.blockBytes
            for level in Self.levels {
                Self.atLevel(level) {
                    var packed = [UInt8](repeating: 0, count: Int(mvlm_gemm_q8_packed_bytes(Int64(shape.tokens), Int64(shape.inputs))))
                    x.withUnsafeBufferPointer { xs in
                        packed.withUnsafeMutableBytes {
                            mvlm_gemm_q8_pack(xs.baseAddress!, Int64(shape.tokens), Int64(shape.inputs), 0, Int64((shape.tokens + 7) / 8), $0.baseAddress!)
                        }
                    }
                    var y = [Float](repeating: .nan, count: shape.tokens * shape.outputs)
                    let splits = [0, min(16, shape.outputs), min(16 + 5, shape.outputs), shape.outputs]
                    bytes.withUnsafeBytes { w in
                        packed.withUnsafeBytes { xp in
                            y.withUnsafeMutableBufferPointer { out in
                                func run(_ b: UnsafePointer<Float>?) {
                                    for index in 0..<(splits.count - 1) {
                                        mvlm_gemm_q8(
                                            code, w.baseAddress!, rowBytes, Int64(splits[index]), Int64(splits[index + 1]), xp.baseAddress!,
                                            Int64(shape.tokens), Int64(shape.inputs), b, out.baseAddress!, Int64(shape.outputs))
                                    }
                                }
                                if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
                            }
                        }
                    }
                    var failures = 0
                    for t in 0..<shape.tokens {
                        for n in 0..<shape.outputs {
                            var exact = Double(bias?[n] ?? 0), magnitude = abs(exact)
                            for k in 0..<shape.inputs {
                                let product = Double(weights[n * shape.inputs + k]) * Double(xBack[t * shape.inputs + k])
                                exact += product
                                magnitude += abs(product)
                            }
                            let got = Double(y[t * shape.outputs + n])
                            let ok = exact.isFinite ? abs(got - exact) <= 1e-5 * magnitude + 1e-30 : !got.isFinite
                            if !ok {
                                failures += 1
                                if failures <= 3 {
                                    Issue.record("level \(level) \(type.name) \(pattern) \(shape.testDescription) token \(t) row \(n): \(got) vs \(exact)")
                                }
                            }
                        }
                    }
                    #expect(failures == 0, "level \(level) \(type.name) \(pattern) \(shape.testDescription)")
                }
            }
        }
    }

    @Test("through QuantizedMatVec.run (2 threads): y = x·Wᵀ + b within the 8-bit activation bound", arguments: [BlockType.q4_0, .q4_K, .q6_K])
    func throughRun(type: BlockType) throws {
        guard QuantizedMatVec.isAvailable else { return }  // the Swift SIMD path runs instead (BlockFormatTests)
        let columns = 512, rows = 70
        let scales = BlockFormatTests.types.first { $0.0 == type }!.1
        let bytes = BlockFormatTests.blocks(type, scales: scales, rows: rows, columns: columns, pattern: .random, seed: 8)
        let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: rows * columns)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [rows, columns])
        let bias = (0..<rows).map { Float($0) * 0.25 }
        var rng = SeededRandom(seed: 6)
        for tokens in [4, 17] {
            #expect(QuantizedMatVec.applies(to: tensor, tokens: tokens))
            let x = (0..<(tokens * columns)).map { _ in Float.random(in: -1...1, using: &rng) }
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
                        bound += abs(w) * (1.0 / 254 + 1e-5)  // |x| ≤ 1: half a step of max|x|/127 per activation
                    }
                    #expect(abs(Double(y[t * rows + n]) - exact) <= bound, "\(type.name) T=\(tokens) token \(t) row \(n): \(y[t * rows + n]) vs \(exact)")
                }
            }
        }
    }
}
