import CMVLMKernels
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The IQ4_NL C kernels (iq4nl.c) at every level this CPU has, against a Double reference: the
/// weights decoded by `BlockDequantizer` (bitwise llama.cpp's decoder, IQ4_NLTests), the
/// activations quantized to Q8_0 by the reference quantizer and decoded again.
@Suite("IQ4_NL C kernels", .serialized)
struct IQ4_NLKernelTests {
    /// The shared hostile block patterns plus blocks whose every index is 0 (grid value -127, the
    /// largest magnitude) under scales ±60000, and blocks of index 8 (grid value 1) under tiny scales.
    enum Pattern: CustomStringConvertible, CaseIterable, Equatable {
        case shared(BlockFormatTests.Pattern), extremeIndex, smallestIndex
        static var allCases: [Pattern] { BlockFormatTests.Pattern.allCases.map { .shared($0) } + [.extremeIndex, .smallestIndex] }
        var description: String {
            switch self {
            case .shared(let p): "\(p)"
            case .extremeIndex: "extremeIndex"
            case .smallestIndex: "smallestIndex"
            }
        }
    }

    static func blocks(_ pattern: Pattern, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        switch pattern {
        case .shared(let p): return BlockFormatTests.blocks(.iq4_NL, scales: [0], rows: rows, columns: columns, pattern: p, seed: seed)
        case .extremeIndex, .smallestIndex:
            let count = rows * columns / 32
            var bytes = [UInt8](repeating: pattern == .extremeIndex ? 0x00 : 0x88, count: count * 18)
            for block in 0..<count {
                let d: Float = pattern == .extremeIndex ? (block % 2 == 0 ? 60000 : -60000) : 0x1p-24
                let bits = HalfPrecision.float16Bits(from: d)
                bytes[block * 18] = UInt8(bits & 0xFF)
                bytes[block * 18 + 1] = UInt8(bits >> 8)
            }
            return bytes
        }
    }

    @Test("Decode matches the reference at every level, with and without block sums", arguments: Pattern.allCases)
    func decode(pattern: Pattern) throws {
        let columns = 32 * 23, rows = 37  // odd block count, rows not a multiple of the 4-row tile
        let bytes = Self.blocks(pattern, rows: rows, columns: columns, seed: 3)
        let weights = try BlockDequantizer.dequantize(.iq4_NL, bytes: bytes, count: rows * columns)
        var rng = SeededRandom(seed: 17)
        for token in 0..<4 {
            var x = MatrixMultiplyTests.activations(tokens: 4, inputs: columns, rng: &rng)
            x = Array(x[(token * columns)..<((token + 1) * columns)])
            if token == 3 { x = x.enumerated().map { $0.offset % 2 == 0 ? 127 : -127 } }  // saturated activations
            let xq = try QuantizationScheme.q8_0.quantize(x)
            let xsum = (0..<(columns / 32)).map { b in xq[(b * 34 + 2)..<(b * 34 + 34)].reduce(Int32(0)) { $0 + Int32(Int8(bitPattern: $1)) } }
            let xBack = try BlockDequantizer.dequantize(.q8_0, bytes: xq, count: columns)
            for level in MatrixMultiplyTests.levels {
                for withSums in [true, false] {
                    MatrixMultiplyTests.atLevel(level) {
                        var y = [Float](repeating: .nan, count: rows)
                        bytes.withUnsafeBytes { w in
                            xq.withUnsafeBytes { q in
                                xsum.withUnsafeBufferPointer { sums in
                                    y.withUnsafeMutableBufferPointer { out in
                                        // Through mvlm_matvec_q8's type 4, in two ranges (threads' split).
                                        for (first, last) in [(0, 5), (5, rows)] {
                                            mvlm_matvec_q8(
                                                4, w.baseAddress!, columns / 32 * 18, Int64(first), Int64(last), q.baseAddress!,
                                                withSums ? sums.baseAddress! : nil, Int64(columns), out.baseAddress!)
                                        }
                                    }
                                }
                            }
                        }
                        QuantizedMatVecTests.expectReference(
                            y, weights: weights, x: xBack, label: "level \(level) sums \(withSums) \(pattern) token \(token)")
                    }
                }
            }
        }
    }

    @Test("Prefill matches the reference at every level", arguments: Pattern.allCases)
    func prefill(pattern: Pattern) throws {
        let inputs = 32 * 21, outputs = 45, tokens = 11
        let bytes = Self.blocks(pattern, rows: outputs, columns: inputs, seed: 5)
        let weights = try BlockDequantizer.dequantize(.iq4_NL, bytes: bytes, count: outputs * inputs)
        var rng = SeededRandom(seed: 23)
        let x = MatrixMultiplyTests.activations(tokens: tokens, inputs: inputs, rng: &rng)
        var xBack = [Float]()
        for t in 0..<tokens {
            let q = try QuantizationScheme.q8_0.quantize(Array(x[(t * inputs)..<((t + 1) * inputs)]))
            xBack += try BlockDequantizer.dequantize(.q8_0, bytes: q, count: inputs)
        }
        let bias = (0..<outputs).map { Float($0) - 7.5 }
        for level in MatrixMultiplyTests.levels {
            MatrixMultiplyTests.atLevel(level) {
                var packed = [UInt8](repeating: 0, count: Int(mvlm_gemm_q8_packed_bytes(Int64(tokens), Int64(inputs))))
                x.withUnsafeBufferPointer { xs in
                    packed.withUnsafeMutableBytes { mvlm_gemm_q8_pack(xs.baseAddress!, Int64(tokens), Int64(inputs), 0, 2, $0.baseAddress!) }
                }
                var scratch = [UInt8](repeating: 0, count: Int(mvlm_gemm_iq4nl_scratch_bytes(Int64(inputs))))
                var y = [Float](repeating: .nan, count: tokens * outputs)
                bytes.withUnsafeBytes { w in
                    packed.withUnsafeBytes { xp in
                        bias.withUnsafeBufferPointer { b in
                            scratch.withUnsafeMutableBytes { s in
                                y.withUnsafeMutableBufferPointer { out in
                                    for (first, last) in [(0, 16), (16, 21), (21, outputs)] {
                                        mvlm_gemm_iq4nl(
                                            w.baseAddress!, inputs / 32 * 18, Int64(first), Int64(last), xp.baseAddress!, Int64(tokens),
                                            Int64(inputs), b.baseAddress!, out.baseAddress!, Int64(outputs), s.baseAddress!)
                                    }
                                }
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
                        let ok = exact.isFinite ? abs(got - exact) <= 1e-5 * magnitude + 1e-30 : !got.isFinite
                        if !ok {
                            failures += 1
                            if failures <= 3 { Issue.record("level \(level) \(pattern) token \(t) row \(n): \(got) vs \(exact)") }
                        }
                    }
                }
                #expect(failures == 0, "level \(level) \(pattern)")
            }
        }
    }

    @Test("An IQ4_NL block rewritten as Q8_0 decodes to the same values bit for bit")
    func transcode() throws {
        for pattern in Pattern.allCases {
            let bytes = Self.blocks(pattern, rows: 3, columns: 64, seed: 9)
            var q8 = [UInt8](repeating: 0, count: 6 * 34)
            bytes.withUnsafeBytes { src in q8.withUnsafeMutableBytes { mvlm_iq4nl_to_q8_0(src.baseAddress!, 6, $0.baseAddress!) } }
            let a = try BlockDequantizer.dequantize(.iq4_NL, bytes: bytes, count: 192)
            let b = try BlockDequantizer.dequantize(.q8_0, bytes: q8, count: 192)
            #expect(zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "\(pattern)")
        }
    }

    @Test("The interpreter's path sends IQ4_NL decode and prefill to the C kernels")
    func routing() throws {
        let bytes = [UInt8](repeating: 0x11, count: 16 * 2 * 18)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(.iq4_NL), shape: [16, 64])
        #expect(QuantizedMatVec.kernelType(.iq4_NL) == 4 && QuantizedMatVec.matrixKernelType(.iq4_NL) == 4)
        #expect(QuantizedMatVec.applies(to: tensor, tokens: 1) == QuantizedMatVec.isAvailable)
        #expect(QuantizedMatVec.applies(to: tensor, tokens: 64) == QuantizedMatVec.isAvailable)
    }
}
