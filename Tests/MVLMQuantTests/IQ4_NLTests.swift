import Foundation
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

/// IQ4_NL against llama.cpp's own quantizer and dequantizer (`Tests/Fixtures/gen_iq4nl.py`: the
/// shared quantization rows plus hostile ones — zeros, one outlier per block, subnormals, values
/// whose squares overflow, scales beyond f16 — quantized by `quantize_iq4_nl` with and without an
/// importance matrix, decoded by `dequantize_row_iq4_nl` and checked equal to gguf-python's).
@Suite("IQ4_NL")
struct IQ4_NLTests {
    static let columns = 256

    static func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("iq4nl/\(name)"))))
    }

    static func floats(_ name: String) throws -> [Float] {
        let data = try fixture(name)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static func rows() throws -> [(name: String, values: [Float])] {
        let all = try floats("rows.f32")
        let names = (try loadExpectedJSON("iq4nl/manifest.json"))["rows"] as? [String] ?? []
        return names.enumerated().map { index, name in (name, Array(all[(index * columns)..<((index + 1) * columns)])) }
    }

    @Test("Quantization is byte-identical to llama.cpp's quantize_iq4_nl on every row, hostile ones included")
    func byteIdentity() throws {
        let rows = try Self.rows()
        #expect(rows.count == 74)
        let expected = try Self.fixture("iq4_nl.bin")
        let rowBytes = try QuantizationScheme.iq4_NL.rowByteCount(elements: Self.columns)
        #expect(rowBytes == 144 && expected.count == rows.count * rowBytes)
        for (index, row) in rows.enumerated() {
            let reference = Array(expected[(index * rowBytes)..<((index + 1) * rowBytes)])
            let plain = try QuantizationScheme.iq4_NL.quantize(row.values)
            #expect(plain == reference, "row \(row.name): first difference at byte \(firstDifference(plain, reference) ?? -1)")
            // The reference already searches: `search` without importance writes the same bytes.
            #expect(try QuantizationScheme.iq4_NL.quantize(row.values, search: true) == reference)
        }
    }

    @Test("With importance and search it is byte-identical to llama.cpp's imatrix path")
    func imatrixIdentity() throws {
        let rows = try Self.rows()
        let importance = try QuantFixtures.floats("importance.f32")
        let bytes = try QuantizationScheme.iq4_NL.quantize(
            matrix: rows.flatMap(\.values), rows: rows.count, columns: Self.columns, importance: importance, search: true)
        let expected = try Self.fixture("iq4_nl_imatrix.bin")
        #expect(bytes == expected, "first difference at byte \(firstDifference(bytes, expected) ?? -1)")
        #expect(bytes != (try Self.fixture("iq4_nl.bin")), "the importance must change some blocks")
        // Importance without search is ignored (round-to-nearest means the reference bytes).
        let plain = try QuantizationScheme.iq4_NL.quantize(
            matrix: rows.flatMap(\.values), rows: rows.count, columns: Self.columns, importance: importance, search: false)
        #expect(plain == (try Self.fixture("iq4_nl.bin")))
    }

    @Test("Dequantization is bitwise equal to llama.cpp and gguf-python", arguments: ["iq4_nl", "iq4_nl_imatrix"])
    func dequantize(stem: String) throws {
        let bytes = try Self.fixture("\(stem).bin")
        let expected = try Self.floats("\(stem).deq.f32")
        let viaScheme = try QuantizationScheme.iq4_NL.dequantize(matrix: bytes, rows: expected.count / Self.columns, columns: Self.columns)
        let viaBlocks = try BlockDequantizer.dequantize(.iq4_NL, bytes: bytes, count: expected.count)
        for values in [viaScheme, viaBlocks] {
            let same = zip(values, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
            #expect(same, "first difference at \(firstDifference(values.map(\.bitPattern), expected.map(\.bitPattern)) ?? -1)")
        }
    }

    @Test("Decoded values lie on the grid times the block scale and the round trip error is small")
    func gridAndError() throws {
        let grid: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
        var random = SeededRandom(seed: 11)
        let row = random.floats(1024, in: -1...1)
        let bytes = try QuantizationScheme.iq4_NL.quantize(row)
        #expect(bytes.count == 1024 / 32 * 18)
        let values = try QuantizationScheme.iq4_NL.dequantize(bytes, count: 1024)
        var squaredError: Float = 0, squaredValue: Float = 0
        for block in 0..<32 {
            let d = HalfPrecision.float(fromFloat16Bits: UInt16(bytes[block * 18]) | UInt16(bytes[block * 18 + 1]) << 8)
            #expect(d > 0 || d < 0)
            for j in 0..<32 {
                let value = values[block * 32 + j]
                #expect(grid.contains { d * $0 == value })
                squaredError += (value - row[block * 32 + j]) * (value - row[block * 32 + j])
                squaredValue += row[block * 32 + j] * row[block * 32 + j]
            }
        }
        // 16 levels over [-1, 1]: a relative RMS error of a few percent (Q4_0 gives about 0.08).
        #expect((squaredError / squaredValue).squareRoot() < 0.08)
    }

    @Test("Bad rows are rejected with errors, not crashes")
    func badInput() throws {
        #expect(throws: MVLMError.self) { try QuantizationScheme.iq4_NL.quantize([Float](repeating: 1, count: 48)) }
        #expect(throws: MVLMError.self) { try QuantizationScheme.iq4_NL.quantize([Float](repeating: .nan, count: 32)) }
        #expect(throws: MVLMError.self) { try QuantizationScheme.iq4_NL.dequantize([UInt8](repeating: 0, count: 17), count: 32) }
        #expect(throws: MVLMError.self) {
            try QuantizationScheme.iq4_NL.quantize([Float](repeating: 1, count: 32), importance: [Float](repeating: -1, count: 32), search: true)
        }
        #expect(QuantizationScheme(name: "IQ4_NL") == .iq4_NL)
        #expect(QuantizationScheme(blockType: .iq4_NL) == .iq4_NL)
        #expect(QuantizationScheme.iq4_NL.dtype == .block(.iq4_NL))
        #expect(QuantizationScheme.iq4_NL.bitsPerWeight == 4.5)
    }
}
