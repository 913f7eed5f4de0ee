import CMVLMKernels
import Foundation
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

/// The C vector quantizers (`mvlm_quantize_q4_k` / `_q6_k` / `_q4_0`, AVX2 and AVX-512), which
/// conversion uses, at every level this CPU runs, against the reference bytes (llama.cpp's for the
/// K types, gguf-python's for Q4_0: the fixture rows) and against the portable Swift kernels
/// (level 0) on random and adversarial rows; and conversion's two other C helpers (f16 widening,
/// the finiteness check) against plain Swift.
@Suite("Vector quantizers (Q4_K, Q6_K, Q4_0)")
struct VectorQuantizerTests {
    /// Kernel levels this CPU runs (0 is the Swift kernel); each test forces them on its own thread.
    static let levels: [Int32] = {
        let top = mvlm_kernels_set_thread_level(2)
        mvlm_kernels_set_thread_level(-1)
        return Array(0...top)
    }()

    static func atLevel<T>(_ level: Int32, _ body: () throws -> T) rethrows -> T {
        let used = mvlm_kernels_set_thread_level(level)
        defer { mvlm_kernels_set_thread_level(-1) }
        precondition(used == level, "level \(level) is not available")
        return try body()
    }

    static let schemes: [(QuantizationScheme, String)] = [(.q4_K, "q4_k"), (.q6_K, "q6_k"), (.q4_0, "q4_0")]

    @Test("The CPU runs a vector level (otherwise conversion falls back to the Swift kernels)")
    func vectorLevelPresent() {
        // This machine is x86-64 with AVX2; the suite below would test only the Swift path without it.
        #if arch(x86_64)
        #expect(Self.levels.count >= 2, "no AVX2 level detected: only the portable path is tested")
        #endif
    }

    @Test("Every level is byte-identical to llama.cpp on the fixture rows", arguments: schemes)
    func fixtureRows(scheme: QuantizationScheme, stem: String) throws {
        let rows = try QuantFixtures.rows()
        let expected = try QuantFixtures.bytes("\(stem).bin")
        let rowBytes = try scheme.rowByteCount(elements: QuantFixtures.columns)
        for level in Self.levels {
            for (index, row) in rows.enumerated() {
                let bytes = try Self.atLevel(level) { try scheme.quantize(row.values) }
                let reference = Array(expected[(index * rowBytes)..<((index + 1) * rowBytes)])
                #expect(bytes == reference, "level \(level) \(scheme) row \(row.name): first difference at byte \(firstDifference(bytes, reference) ?? -1)")
            }
        }
    }

    /// The fixture rows are one super-block each, which the 16-lane paths (AVX-512, AVX2 x2: two
    /// super-blocks at a time) never take; joined in pairs and triples they do (and an odd count
    /// leaves the 8-lane tail), against the same reference bytes joined.
    @Test("Every level is byte-identical to llama.cpp on fixture rows joined into rows of 2 and 3 super-blocks", arguments: schemes)
    func joinedFixtureRows(scheme: QuantizationScheme, stem: String) throws {
        let rows = try QuantFixtures.rows()
        let expected = try QuantFixtures.bytes("\(stem).bin")
        let rowBytes = try scheme.rowByteCount(elements: QuantFixtures.columns)
        for width in [2, 3] {
            for start in 0..<(rows.count - width + 1) {
                let joined = rows[start..<(start + width)].flatMap(\.values)
                let reference = Array(expected[(start * rowBytes)..<((start + width) * rowBytes)])
                for level in Self.levels {
                    let bytes = try Self.atLevel(level) { try scheme.quantize(joined) }
                    #expect(bytes == reference, "level \(level) \(scheme) rows \(start)..<\(start + width): first difference at byte \(firstDifference(bytes, reference) ?? -1)")
                }
            }
        }
    }

    /// Conversion hands the quantizers an uninitialized buffer, so every scheme must write every
    /// byte: quantizing into buffers pre-filled with 0xAA and with 0x55 must give the same bytes.
    @Test("Every scheme writes every byte of its output (no byte left from the buffer)")
    func writesEveryByte() throws {
        let rows = Self.adversarialRows(seed: 11).filter { $0.count == 512 } + [try QuantFixtures.rows()[0].values + QuantFixtures.rows()[1].values]
        for scheme in QuantizationScheme.allSchemes + [.affineInt4(groupSize: 64), .affineInt4(groupSize: 128)] {
            for row in rows {
                let count = try scheme.rowByteCount(elements: row.count)
                for level in Self.levels {
                    for search in [false, true] {
                        // With search, an importance vector too (the imatrix paths of Q4_K / Q6_K).
                        let importance: [Float]? = search ? (0..<row.count).map { Float(1 + $0 % 7) } : nil
                        func fill(_ byte: UInt8) throws -> [UInt8] {
                            var out = [UInt8](repeating: byte, count: count)
                            try row.withUnsafeBufferPointer { x in
                                try out.withUnsafeMutableBytes { destination in
                                    if let importance {
                                        try importance.withUnsafeBufferPointer {
                                            try scheme.quantize(matrix: x, rows: 1, columns: row.count, into: destination, importance: $0, search: true)
                                        }
                                    } else {
                                        try scheme.quantize(matrix: x, rows: 1, columns: row.count, into: destination)
                                    }
                                }
                            }
                            return out
                        }
                        let (a, b) = try Self.atLevel(level) { (try fill(0xAA), try fill(0x55)) }
                        #expect(a == b, "\(scheme) level \(level) search \(search): byte \(firstDifference(a, b) ?? -1) not written")
                    }
                }
            }
        }
    }

    /// Rows of several super-blocks (odd counts too: the AVX-512 Q4_K path takes two at a time)
    /// with adversarial content per super-block.
    static func adversarialRows(seed: UInt64) -> [[Float]] {
        var random = SeededRandom(seed: seed)
        func gaussian() -> Float {
            let u = max(Double(random.next() >> 11) / Double(1 << 53), 1e-300), v = Double(random.next() >> 11) / Double(1 << 53)
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
        var rows: [[Float]] = []
        for superBlocks in [1, 2, 3, 5, 8] {
            var row: [Float] = []
            for block in 0..<superBlocks {
                let kind = Int(random.next() % 9)
                for i in 0..<256 {
                    let value: Float
                    switch (kind + block) % 9 {
                    case 0: value = gaussian() * 0.02
                    case 1: value = 0.75  // all equal, positive
                    case 2: value = -1.25  // all equal, negative
                    case 3: value = 0
                    case 4: value = (i % 2 == 0 ? 1 : -1) * 65000  // max f16 range
                    case 5: value = gaussian() * 1e-38  // subnormal scales
                    case 6: value = i % 37 == 0 ? gaussian() * 50 : gaussian() * 0.01  // outliers
                    case 7: value = Float(i % 16) - 7.5  // on the grid, ties
                    default: value = i < 32 ? 0 : gaussian()  // one flat sub-block
                    }
                    row.append(value)
                }
            }
            rows.append(row)
        }
        for _ in 0..<20 {
            rows.append((0..<(256 * 4)).map { _ in gaussian() * Float(1 + random.next() % 100) / 100 })
        }
        return rows
    }

    @Test("Every level equals the Swift kernel on random and adversarial rows", arguments: schemes)
    func againstSwift(scheme: QuantizationScheme, stem: String) throws {
        for (index, row) in Self.adversarialRows(seed: 0x51AB_0000 &+ UInt64(stem.count)).enumerated() {
            let reference = try Self.atLevel(0) { try scheme.quantize(row) }
            for level in Self.levels.dropFirst() {
                let bytes = try Self.atLevel(level) { try scheme.quantize(row) }
                #expect(bytes == reference, "level \(level) \(scheme) row \(index): first difference at byte \(firstDifference(bytes, reference) ?? -1)")
            }
        }
    }

    @Test("f16 widening (F16C) equals the software conversion on all 65,536 values")
    func widening() {
        let halves = (0...UInt16.max).map { $0 }
        for level in Self.levels {
            var widened = [Float](repeating: .nan, count: halves.count)
            let ran = Self.atLevel(level) {
                halves.withUnsafeBufferPointer { h in
                    widened.withUnsafeMutableBufferPointer { mvlm_widen_f16(h.baseAddress, $0.baseAddress, Int64(h.count)) }
                }
            }
            #expect((ran != 0) == (level > 0), "level \(level): the vector path ran = \(ran)")
            guard ran != 0 else { continue }
            let mismatches = halves.indices.filter {
                widened[$0].bitPattern != HalfPrecision.float(fromFloat16Bits: halves[$0]).bitPattern
                    && !(widened[$0].isNaN && HalfPrecision.float(fromFloat16Bits: halves[$0]).isNaN)
            }
            #expect(mismatches.isEmpty, "level \(level): \(mismatches.count) values differ, first f16 bits \(mismatches.first.map { String(halves[$0], radix: 16) } ?? "")")
        }
    }

    @Test("The finiteness check finds a NaN or an infinity at every position")
    func finiteness() {
        for level in Self.levels {
            for count in [1, 7, 8, 9, 37, 64] {
                let clean = (0..<count).map { Float($0) - 3.5 }
                #expect(Self.atLevel(level) { clean.withUnsafeBufferPointer { mvlm_all_finite($0.baseAddress, Int64(count)) } } == 1)
                for position in 0..<count {
                    for bad in [Float.nan, .infinity, -.infinity] {
                        var row = clean
                        row[position] = bad
                        let result = Self.atLevel(level) { row.withUnsafeBufferPointer { mvlm_all_finite($0.baseAddress, Int64(count)) } }
                        #expect(result == 0, "level \(level): \(bad) at \(position) of \(count) not found")
                    }
                }
            }
        }
    }
}
