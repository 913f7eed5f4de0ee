import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The matrix kernels on block-quantized weights read in place (`Q8_0Format`, `Q4_0Format`, ...)
/// against a plain reference: the blocks dequantized by `BlockDequantizer` (MVLMQuant, checked
/// against gguf-py and llama.cpp) and a Double-precision loop.
@Suite("matrix kernels on stored blocks")
struct BlockFormatTests {
    /// Types the kernels read in place, with their block bytes and the byte offsets of their f16
    /// scales within a block.
    static let types: [(BlockType, [Int])] = [
        (.q8_0, [0]), (.int8Block32, [0]), (.q4_0, [0]), (.q4_1, [0, 2]), (.affine4G32, [0, 2]), (.q5_0, [0]),
        (.q4_K, [0, 2]), (.q6_K, [208]), (.affine4G64, [0, 2]), (.affine4G128, [0, 2]), (.iq4_NL, [0]),
    ]

    enum Pattern: String, CaseIterable {
        /// `saturated`: every byte 0xFF (all nibbles 15, Q6_K levels 63, 6-bit scales 63) under
        /// positive scales: the largest integer partial sums, where an int16 accumulation would overflow.
        case random, allEqual, maxRange, subnormalScales, saturated
    }

    /// `rows` rows of `columns` weights as blocks of `type` filled by `pattern`.
    static func blocks(_ type: BlockType, scales: [Int], rows: Int, columns: Int, pattern: Pattern, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let count = rows * columns / type.blockElements * type.blockBytes
        var bytes: [UInt8]
        switch pattern {
        case .random: bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case .allEqual: bytes = [UInt8](repeating: 0x5A, count: count)
        case .maxRange: bytes = (0..<count).map { index in index % 3 == 0 ? 0xFF : 0x00 }
        case .subnormalScales: bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case .saturated: bytes = [UInt8](repeating: 0xFF, count: count)
        }
        for block in 0..<(count / type.blockBytes) {
            for offset in scales {
                let value: UInt16
                switch pattern {
                case .random, .allEqual: value = HalfPrecision.float16Bits(from: Float.random(in: -0.05...0.05, using: &rng))
                case .maxRange: value = HalfPrecision.float16Bits(from: block % 2 == 0 ? 60000 : -60000)
                case .subnormalScales: value = UInt16.random(in: 1...0x3FF, using: &rng) | (block % 2 == 0 ? 0 : 0x8000)
                case .saturated: value = HalfPrecision.float16Bits(from: 0.25)
                }
                bytes[block * type.blockBytes + offset] = UInt8(value & 0xFF)
                bytes[block * type.blockBytes + offset + 1] = UInt8(value >> 8)
            }
        }
        return bytes
    }

    static var cases: [(BlockType, Pattern)] {
        types.flatMap { type, _ in Pattern.allCases.map { (type, $0) } }
    }

    @Test("y = x·Wᵀ on blocks read in place matches dequantize-then-multiply", arguments: cases)
    func linear(type: BlockType, pattern: Pattern) throws {
        let scales = Self.types.first { $0.0 == type }!.1
        let columns = max(type.blockElements, 256) * 2 + (type.blockElements <= 64 ? type.blockElements : 0)
        let rows = 37  // not a multiple of the kernels' 4-row or 16-row tiles
        let bytes = Self.blocks(type, scales: scales, rows: rows, columns: columns, pattern: pattern, seed: UInt64(columns))
        let weights = try BlockDequantizer.dequantize(type, bytes: bytes, count: rows * columns)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [rows, columns])
        var rng = SeededRandom(seed: 7)
        for tokens in [1, 3, 4, 9] {  // the vector path (< 4 tokens) and the tiled matrix path
            let x = (0..<(tokens * columns)).map { _ in Float.random(in: -1...1, using: &rng) }
            var y = [Float](repeating: 0, count: tokens * rows)
            try x.withUnsafeBufferPointer { xs in
                try y.withUnsafeMutableBufferPointer { ys in
                    let kernel = LinearKernel(x: xs.baseAddress!, tokens: tokens, inputs: columns, outputs: rows, bias: nil, y: ys.baseAddress!, threads: 2)
                    #expect(tensor.applyInPlace(kernel, type) != nil, "\(type.name) has no in-place format")
                }
            }
            for t in 0..<tokens {
                for n in 0..<rows {
                    var exact = 0.0, magnitude = 0.0
                    for k in 0..<columns {
                        let product = Double(weights[n * columns + k]) * Double(x[t * columns + k])
                        exact += product
                        magnitude += abs(product)
                    }
                    let got = Double(y[t * rows + n])
                    if exact.isFinite {
                        #expect(abs(got - exact) <= 2e-6 * magnitude + 1e-30, "\(type.name) \(pattern) tokens \(tokens) row \(n): \(got) vs \(exact)")
                    } else {
                        #expect(got.isNaN == exact.isNaN, "\(type.name) \(pattern)")
                    }
                }
            }
        }
        // Every weight, read 8 at a time (the kernels) or one at a time (tails, embedding lookups),
        // is bit-identical to the reference dequantization; read through the runtime's own
        // block-type dispatch (`applyInPlace`), so the mapping from type to format is tested too.
        let (vectors, singles) = try #require(tensor.applyInPlace(WidenEveryWeight(count: rows * columns), type))
        var mismatches = 0
        for (index, reference) in weights.enumerated() {
            for value in [vectors[index], singles[index]] where !(value.bitPattern == reference.bitPattern || (value.isNaN && reference.isNaN)) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(type.name) \(pattern): \(mismatches) weights differ from the reference")
    }
}

/// Every weight of a tensor through its format, 8 at a time (`load8`) and one at a time (`load`).
struct WidenEveryWeight: WeightKernel {
    let count: Int

    func run<W: WeightFormat>(_ format: W.Type, _ base: UnsafeRawPointer) -> ([Float], [Float]) {
        var vectors: [Float] = [], singles: [Float] = []
        for index in stride(from: 0, to: count, by: 8) {
            let (a, b) = W.load8(base, index)
            for lane in 0..<8 {
                vectors.append(lane < 4 ? a[lane] : b[lane - 4])
                singles.append(W.load(base, index + lane))
            }
        }
        return (vectors, singles)
    }
}
