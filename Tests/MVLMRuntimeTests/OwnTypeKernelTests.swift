import CMVLMKernels
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The C decode and prefill kernels of the toolkit's own types (INT8_PC, AFFINE4_G32/G64/G128) at
/// every level this CPU has, against a Double reference: the weights dequantized by
/// `BlockDequantizer` (MVLMQuant's reference decoder, not the kernels), the activations quantized
/// to Q8_0 by MVLMQuant's reference quantizer and dequantized again.
@Suite("C kernels of INT8_PC and AFFINE4 (decode and prefill, every level)", .serialized)
struct OwnTypeKernelTests {
    static let types: [BlockType] = [.int8PerChannel, .affine4G32, .affine4G64, .affine4G128]

    /// Hostile weights: `random` bytes under random scales; `saturated` every quantized byte 0xFF
    /// (INT8_PC -1, nibbles 15) under large positive scales; `extremes` int8 -128 / +127 and nibbles
    /// 0 / 15 alternating; `negativeScales` negative scales and mins; `zeroScales` all scales 0.
    enum Pattern: String, CaseIterable {
        case random, saturated, extremes, negativeScales, zeroScales
    }

    static var cases: [(BlockType, Pattern)] { types.flatMap { type in Pattern.allCases.map { (type, $0) } } }

    /// `rows` rows of `columns` weights of `type` filled by `pattern`.
    static func weights(_ type: BlockType, rows: Int, columns: Int, pattern: Pattern, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let rowBytes = type.rowByteCount(elements: columns)!
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        func scale() -> Float {
            switch pattern {
            case .random, .extremes: Float.random(in: 0.001...0.05, using: &rng)
            case .saturated: Float.random(in: 10...60, using: &rng)
            case .negativeScales: -Float.random(in: 0.001...0.05, using: &rng)
            case .zeroScales: 0
            }
        }
        func quantByte(_ index: Int) -> UInt8 {
            switch pattern {
            case .saturated: 0xFF
            case .extremes: type == .int8PerChannel ? (index % 2 == 0 ? 0x80 : 0x7F) : (index % 2 == 0 ? 0xF0 : 0x0F)
            default: UInt8.random(in: 0...255, using: &rng)
            }
        }
        func putHalf(_ value: Float, at offset: Int) {
            let bits = Float16(value).bitPattern
            bytes[offset] = UInt8(bits & 0xFF)
            bytes[offset + 1] = UInt8(bits >> 8)
        }
        for r in 0..<rows {
            let row = r * rowBytes
            if type == .int8PerChannel {
                withUnsafeBytes(of: scale().bitPattern.littleEndian) { for i in 0..<4 { bytes[row + i] = $0[i] } }
                for i in 0..<columns { bytes[row + 4 + i] = quantByte(i) }
                continue
            }
            let group = type.blockElements, groupBytes = type.blockBytes
            for g in 0..<(columns / group) {
                let at = row + g * groupBytes
                putHalf(scale(), at: at)
                putHalf(pattern == .zeroScales ? 0 : (pattern == .negativeScales ? -1 : 1) * Float.random(in: 0...0.4, using: &rng), at: at + 2)
                for i in 0..<(group / 2) { bytes[at + 4 + i] = quantByte(i) }
            }
        }
        return bytes
    }

    /// Hostile activations: random, a block at ±max only, a block of zeros, a block with huge values.
    static func activations(tokens: Int, columns: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        var x = (0..<(tokens * columns)).map { _ in Float.random(in: -2...2, using: &rng) }
        for t in 0..<tokens {
            let base = t * columns
            for i in 0..<32 { x[base + i] = i % 2 == 0 ? 3 : -3 }  // saturated block: |q| = 127 everywhere
            if columns >= 64 { for i in 32..<64 { x[base + i] = 0 } }
            if columns >= 96 { for i in 64..<96 { x[base + i] = Float(i - 80) * 1e4 } }
        }
        return x
    }

    @Test("decode: mvlm_matvec_q8 matches the Double reference at every level", arguments: cases)
    func decode(type: BlockType, pattern: Pattern) throws {
        let columns = 128 * 5, rows = 37  // odd rows; 20 activation blocks
        let bytes = Self.weights(type, rows: rows, columns: columns, pattern: pattern, seed: 3)
        let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: rows * columns, rowLength: columns)
        let x = Self.activations(tokens: 1, columns: columns, seed: 8)
        let xq = try QuantizationScheme.q8_0.quantize(x)
        let xsum = (0..<(columns / 32)).map { b in xq[(b * 34 + 2)..<(b * 34 + 34)].reduce(Int32(0)) { $0 + Int32(Int8(bitPattern: $1)) } }
        let xBack = try BlockDequantizer.dequantize(.q8_0, bytes: xq, count: columns)
        let code = try #require(QuantizedMatVec.kernelType(type))
        let rowBytes = type.rowByteCount(elements: columns)!
        for level in MatrixMultiplyTests.levels {
            MatrixMultiplyTests.atLevel(level) {
                var y = [Float](repeating: .nan, count: rows)
                bytes.withUnsafeBytes { w in
                    xq.withUnsafeBytes { q in
                        xsum.withUnsafeBufferPointer { sums in
                            y.withUnsafeMutableBufferPointer { out in
                                // Two ranges, the second starting on an odd row.
                                mvlm_matvec_q8(code, w.baseAddress!, rowBytes, 0, 13, q.baseAddress!, sums.baseAddress!, Int64(columns), out.baseAddress!)
                                mvlm_matvec_q8(code, w.baseAddress!, rowBytes, 13, Int64(rows), q.baseAddress!, sums.baseAddress!, Int64(columns), out.baseAddress!)
                            }
                        }
                    }
                }
                QuantizedMatVecTests.expectReference(y, weights: weights, x: xBack, label: "level \(level) \(type.name) \(pattern)")
            }
        }
    }

    @Test("prefill: mvlm_gemm_q8 matches the Double reference at every level, odd token counts, bias", arguments: cases)
    func prefill(type: BlockType, pattern: Pattern) throws {
        let columns = 128 * 5, rows = 37
        let bytes = Self.weights(type, rows: rows, columns: columns, pattern: pattern, seed: 5)
        let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: rows * columns, rowLength: columns)
        let code = try #require(QuantizedMatVec.matrixKernelType(type))
        let rowBytes = type.rowByteCount(elements: columns)!
        let bias = (0..<rows).map { Float($0) * 0.125 - 2 }
        for tokens in [1, 5, 13] {
            let x = Self.activations(tokens: tokens, columns: columns, seed: UInt64(20 + tokens))
            var xBack: [Float] = []
            for t in 0..<tokens {
                let q = try QuantizationScheme.q8_0.quantize(Array(x[(t * columns)..<((t + 1) * columns)]))
                xBack += try BlockDequantizer.dequantize(.q8_0, bytes: q, count: columns)
            }
            for level in MatrixMultiplyTests.levels {
                MatrixMultiplyTests.atLevel(level) {
                    let tiles = (tokens + 7) / 8
                    var packed = [UInt8](repeating: 0, count: Int(mvlm_gemm_q8_packed_bytes(Int64(tokens), Int64(columns))))
                    x.withUnsafeBufferPointer { xs in
                        packed.withUnsafeMutableBytes { mvlm_gemm_q8_pack(xs.baseAddress!, Int64(tokens), Int64(columns), 0, Int64(tiles), $0.baseAddress!) }
                    }
                    var y = [Float](repeating: .nan, count: tokens * rows)
                    let splits = [0, 16, 21, rows]
                    bytes.withUnsafeBytes { w in
                        packed.withUnsafeBytes { xp in
                            bias.withUnsafeBufferPointer { b in
                                y.withUnsafeMutableBufferPointer { out in
                                    for index in 0..<3 {
                                        mvlm_gemm_q8(
                                            code, w.baseAddress!, rowBytes, Int64(splits[index]), Int64(splits[index + 1]), xp.baseAddress!,
                                            Int64(tokens), Int64(columns), b.baseAddress!, out.baseAddress!, Int64(rows))
                                    }
                                }
                            }
                        }
                    }
                    for t in 0..<tokens {
                        let yt = (0..<rows).map { y[t * rows + $0] - bias[$0] }
                        QuantizedMatVecTests.expectReference(
                            yt, weights: weights, x: Array(xBack[(t * columns)..<((t + 1) * columns)]),
                            label: "level \(level) \(type.name) \(pattern) tokens \(tokens) token \(t)")
                    }
                }
            }
        }
    }

    @Test("the interpreter's path: these types run through the integer kernels and LinearPath says so")
    func interpreterPath() throws {
        guard QuantizedMatVec.isAvailable else { return }  // MVLM_KERNELS=swift: the Swift path (checked below)
        let columns = 256, rows = 19
        for type in Self.types {
            let bytes = Self.weights(type, rows: rows, columns: columns, pattern: .random, seed: 9)
            let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: rows * columns, rowLength: columns)
            let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [rows, columns])
            for tokens in [1, 7] {
                #expect(QuantizedMatVec.applies(to: tensor, tokens: tokens))
                let path = LinearPath.of(tensor, tokens: tokens)
                #expect(path.route == .integer && path.kernel.hasSuffix(type.name), "\(path.description)")
                let x = Self.activations(tokens: tokens, columns: columns, seed: 2)
                var y = [Float](repeating: .nan, count: tokens * rows)
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer { out in
                        QuantizedMatVec.run(weight: tensor, x: xs.baseAddress!, tokens: tokens, bias: nil, y: out.baseAddress!, threads: 2)
                    }
                }
                // Within the 8-bit activations' bound: half a step of max|x| / 127 per activation.
                for t in 0..<tokens {
                    for n in 0..<rows {
                        var exact = 0.0, bound = 0.0
                        for k in 0..<columns {
                            let w = Double(weights[n * columns + k]), xv = Double(x[t * columns + k])
                            exact += w * xv
                            let blockMax = (0..<32).map { abs(Double(x[t * columns + (k / 32) * 32 + $0])) }.max()!
                            bound += abs(w) * (blockMax / 254 * 1.001) + 1e-5 * abs(w * xv)
                        }
                        #expect(abs(Double(y[t * rows + n]) - exact) <= bound + 1e-6, "\(type.name) tokens \(tokens) row \(n)")
                    }
                }
            }
        }
    }
}
