import CMVLMKernels
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The kernels that read the rows16 layout in place (decode's `mvlm_matvec_q8_rows16` and prefill's
/// `mvlm_gemm_q8_rows16`, portable / AVX2 / AVX-512 VNNI) against a plain Swift reference: the
/// row-major blocks dequantized by `BlockDequantizer`, the activations quantized to Q8_0 by the
/// gguf-py-identical quantizer and dequantized again, and a Double-precision dot product. The
/// weights are random and adversarial blocks (all-equal, max-range, subnormal scales), repacked by
/// `RowInterleave`.
@Suite("rows16 kernels (Q4_0, Q8_0, Q4_K, Q6_K)", .serialized)
struct Rows16KernelTests {
    static let cases: [(BlockType, BlockFormatTests.Pattern)] = [BlockType.q4_0, .q8_0, .q4_K, .q6_K].flatMap { type in
        BlockFormatTests.Pattern.allCases.map { (type, $0) }
    }

    /// Row-major blocks and their rows16 form.
    static func weights(_ type: BlockType, rows: Int, columns: Int, pattern: BlockFormatTests.Pattern) -> (rowMajor: [UInt8], rows16: [UInt8]) {
        let scales = BlockFormatTests.types.first { $0.0 == type }!.1
        let bytes = BlockFormatTests.blocks(type, scales: scales, rows: rows, columns: columns, pattern: pattern, seed: 17)
        var packed = [UInt8](repeating: 0, count: bytes.count)
        bytes.withUnsafeBytes { source in
            packed.withUnsafeMutableBytes {
                RowInterleave.interleave(type, rows: rows, rowBytes: bytes.count / rows, from: source, into: $0)
            }
        }
        return (bytes, packed)
    }

    @Test("decode kernel matches the reference at every level", arguments: cases)
    func matvec(type: BlockType, pattern: BlockFormatTests.Pattern) throws {
        let columns = 256 * 3, rows = 48
        let (rowMajor, packed) = Self.weights(type, rows: rows, columns: columns, pattern: pattern)
        let weights = try BlockDequantizer.dequantize(type, bytes: rowMajor, count: rows * columns)
        var rng = SeededRandom(seed: 23)
        // Saturated weights meet saturated activations (every q = +127 or -127 within a block, the
        // sign alternating by block): the int16 partial sums at their largest.
        let x = (0..<columns).map { index in
            pattern == .saturated ? (index / 32 % 2 == 0 ? 2 : -2) : index % 41 == 0 ? 0 : Float.random(in: -2...2, using: &rng)
        }
        let xq = try QuantizationScheme.q8_0.quantize(x)
        let xBack = try BlockDequantizer.dequantize(.q8_0, bytes: xq, count: columns)
        var scales = [Float](repeating: 0, count: columns / 32)
        var sums = [Int32](repeating: 0, count: columns / 16)
        xq.withUnsafeBytes { q in mvlm_q8_prepare(q.baseAddress!, Int64(columns), &scales, &sums) }
        for block in 0..<(columns / 32) {  // the companions are what they say
            let values = xq[(block * 34 + 2)..<(block * 34 + 34)].map { Int32(Int8(bitPattern: $0)) }
            #expect(sums[2 * block] == values[0..<16].reduce(0, +) && sums[2 * block + 1] == values[16...].reduce(0, +))
            #expect(scales[block] == Float(Float16(bitPattern: UInt16(xq[block * 34]) | UInt16(xq[block * 34 + 1]) << 8)))
        }
        for level in [0, 1, 2] {
            let used = mvlm_kernels_set_thread_level(Int32(level))
            defer { mvlm_kernels_set_thread_level(-1) }
            var y = [Float](repeating: .nan, count: rows)
            packed.withUnsafeBytes { w in
                xq.withUnsafeBytes { q in
                    y.withUnsafeMutableBufferPointer { out in
                        // Two calls, so a group range that does not start at 0 is covered too.
                        mvlm_matvec_q8_rows16(QuantizedMatVec.kernelType(type)!, w.baseAddress!, 0, 1, q.baseAddress!, scales, sums, Int64(columns), out.baseAddress!)
                        mvlm_matvec_q8_rows16(QuantizedMatVec.kernelType(type)!, w.baseAddress!, 1, 3, q.baseAddress!, scales, sums, Int64(columns), out.baseAddress!)
                    }
                }
            }
            QuantizedMatVecTests.expectReference(y, weights: weights, x: xBack, label: "level \(used) \(type.name) \(pattern)")
        }
    }

    @Test("prefill kernel on rows16 equals the row-major kernel bit for bit at every level", arguments: [BlockType.q4_0, .q8_0, .q4_K, .q6_K])
    func gemm(type: BlockType) throws {
        let columns = 512, rows = 64, tokens = 11
        let (rowMajor, packed) = Self.weights(type, rows: rows, columns: columns, pattern: .random)
        var rng = SeededRandom(seed: 31)
        let x = (0..<(tokens * columns)).map { _ in Float.random(in: -1...1, using: &rng) }
        let bias = (0..<rows).map { Float($0) / 8 }
        let xp = UnsafeMutableRawPointer.allocate(byteCount: Int(mvlm_gemm_q8_packed_bytes(Int64(tokens), Int64(columns))), alignment: 64)
        defer { xp.deallocate() }
        let rowBytes = rowMajor.count / rows
        for level in [0, 1, 2] {
            let used = mvlm_kernels_set_thread_level(Int32(level))
            defer { mvlm_kernels_set_thread_level(-1) }
            mvlm_gemm_q8_pack(x, Int64(tokens), Int64(columns), 0, Int64((tokens + 7) / 8), xp)
            var plain = [Float](repeating: .nan, count: tokens * rows), repacked = plain
            rowMajor.withUnsafeBytes { w in
                mvlm_gemm_q8(QuantizedMatVec.kernelType(type)!, w.baseAddress!, rowBytes, 0, Int64(rows), xp, Int64(tokens), Int64(columns), bias, &plain, Int64(rows))
            }
            packed.withUnsafeBytes { w in
                // Two ranges of whole groups.
                mvlm_gemm_q8_rows16(QuantizedMatVec.kernelType(type)!, w.baseAddress!, rowBytes, 0, 16, xp, Int64(tokens), Int64(columns), bias, &repacked, Int64(rows))
                mvlm_gemm_q8_rows16(QuantizedMatVec.kernelType(type)!, w.baseAddress!, rowBytes, 16, Int64(rows), xp, Int64(tokens), Int64(columns), bias, &repacked, Int64(rows))
            }
            #expect(plain.allSatisfy { $0.isFinite })
            #expect(repacked == plain, "level \(used) \(type.name)")
        }
    }

    @Test("a rows16 tensor through the interpreter's path: decode and prefill agree with the row-major tensor", arguments: [BlockType.q4_0, .q4_K, .q6_K])
    func throughRun(type: BlockType) throws {
        let columns = 256 * 2, rows = 32
        let (rowMajor, packed) = Self.weights(type, rows: rows, columns: columns, pattern: .random)
        let plainTensor = try Tensor(storage: rowMajor.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [rows, columns])
        let packedTensor = try Tensor(
            storage: packed.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [rows, columns], layout: .rows16)
        #expect(packedTensor.withUnsafeBytes { Array($0) } == rowMajor)  // reads give row-major bytes
        #expect(packedTensor.withUnsafeStoredBytes { Array($0) } == packed)
        var rng = SeededRandom(seed: 37)
        for tokens in [1, 3, 9] {
            #expect(QuantizedMatVec.applies(to: packedTensor, tokens: tokens))
            let x = (0..<(tokens * columns)).map { _ in Float.random(in: -1...1, using: &rng) }
            func product(_ tensor: Tensor) -> [Float] {
                var y = [Float](repeating: .nan, count: tokens * rows)
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer { out in
                        QuantizedMatVec.run(weight: tensor, x: xs.baseAddress!, tokens: tokens, bias: nil, y: out.baseAddress!, threads: 2)
                    }
                }
                return y
            }
            let expected = product(plainTensor), got = product(packedTensor)
            let scale = expected.map(abs).max() ?? 1
            #expect((maxAbsoluteDifference(expected, got) ?? .infinity) <= 1e-5 * scale, "\(type.name) tokens \(tokens)")
        }
    }

    @Test("the pool: every chunk runs once, also with nested and concurrent callers")
    func pool() async throws {
        func sum(_ count: Int) -> Int {
            let slots = UnsafeMutablePointer<Int>.allocate(capacity: count)
            defer { slots.deallocate() }
            slots.initialize(repeating: 0, count: count)
            let shared = UncheckedSendable(slots)
            Parallel.forEachChunk(count: count, threads: 2) { range in
                for i in range { shared.value[i] += i + 1 }
                // A nested call runs inline.
                Parallel.forEachChunk(count: 4, threads: 2) { _ in }
            }
            return (0..<count).reduce(0) { $0 + slots[$1] }
        }
        #expect(sum(1000) == 500_500)
        let results = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { (0..<50).reduce(0) { total, _ in total + sum(777) } } }
            return await group.reduce(0, +)
        }
        #expect(results == 4 * 50 * (777 * 778 / 2))
    }
}
