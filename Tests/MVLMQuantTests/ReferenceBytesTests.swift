import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

/// Byte identity with the reference quantizers and bitwise identity with the reference
/// dequantizers, on the rows of `gen_quant.py`.
@Suite("Reference quantizers")
struct ReferenceBytesTests {
    static let referenceSchemes: [(QuantizationScheme, String)] =
        [(.q8_0, "q8_0"), (.q4_0, "q4_0"), (.q4_1, "q4_1"), (.q5_0, "q5_0"), (.q4_K, "q4_k"), (.q6_K, "q6_k")]

    @Test("Quantization is byte-identical to gguf-python / llama.cpp", arguments: referenceSchemes)
    func byteIdentity(scheme: QuantizationScheme, stem: String) throws {
        let rows = try QuantFixtures.rows()
        let expected = try QuantFixtures.bytes("\(stem).bin")
        let rowBytes = try scheme.rowByteCount(elements: QuantFixtures.columns)
        #expect(expected.count == rows.count * rowBytes)
        for (index, row) in rows.enumerated() {
            let bytes = try scheme.quantize(row.values)
            let reference = Array(expected[(index * rowBytes)..<((index + 1) * rowBytes)])
            #expect(bytes == reference, "\(scheme) row \(row.name): first difference at byte \(firstDifference(bytes, reference) ?? -1)")
        }
    }

    @Test("Matrix quantization (parallel) equals the reference bytes", arguments: referenceSchemes)
    func matrixIdentity(scheme: QuantizationScheme, stem: String) throws {
        let rows = try QuantFixtures.rows()
        let bytes = try scheme.quantize(matrix: rows.flatMap(\.values), rows: rows.count, columns: QuantFixtures.columns)
        #expect(bytes == (try QuantFixtures.bytes("\(stem).bin")))
    }

    @Test("Dequantization is bitwise equal to the reference", arguments: referenceSchemes)
    func dequantizeReference(scheme: QuantizationScheme, stem: String) throws {
        let bytes = try QuantFixtures.bytes("\(stem).bin")
        let expected = try QuantFixtures.floats("\(stem).deq.f32")
        let rows = expected.count / QuantFixtures.columns
        let values = try scheme.dequantize(matrix: bytes, rows: rows, columns: QuantFixtures.columns)
        #expect(bitwiseEqual(values, expected), "first difference at \(firstDifference(values.map(\.bitPattern), expected.map(\.bitPattern)) ?? -1)")
    }

    @Test("Q4_K and Q6_K with importance are byte-identical to llama.cpp's imatrix quantizers",
          arguments: [(QuantizationScheme.q4_K, "q4_k"), (.q6_K, "q6_k")])
    func imatrix(scheme: QuantizationScheme, stem: String) throws {
        let rows = try QuantFixtures.rows()
        let importance = try QuantFixtures.floats("importance.f32")
        let bytes = try scheme.quantize(
            matrix: rows.flatMap(\.values), rows: rows.count, columns: QuantFixtures.columns, importance: importance,
            search: true)
        let expected = try QuantFixtures.bytes("\(stem)_imatrix.bin")
        #expect(bytes == expected, "first difference at byte \(firstDifference(bytes, expected) ?? -1)")
        // The imatrix result differs from the reference one (the weights are used).
        #expect(bytes != (try QuantFixtures.bytes("\(stem).bin")))
    }

    static let readableTypes: [(BlockType, String)] = [
        (.q8_0, "q8_0"), (.q4_0, "q4_0"), (.q4_1, "q4_1"), (.q5_0, "q5_0"), (.q5_1, "q5_1"),
        (.q2_K, "q2_k"), (.q3_K, "q3_k"), (.q4_K, "q4_k"), (.q5_K, "q5_k"), (.q6_K, "q6_k"),
    ]

    @Test("Every readable GGUF type decodes random valid blocks like gguf-python", arguments: readableTypes)
    func randomBlocks(type: BlockType, stem: String) throws {
        let bytes = try QuantFixtures.bytes("random_\(stem).bin")
        let expected = try QuantFixtures.floats("random_\(stem).deq.f32")
        let values = try BlockDequantizer.dequantize(type, bytes: bytes, count: expected.count)
        #expect(bitwiseEqual(values, expected), "\(type.name): first difference at \(firstDifference(values.map(\.bitPattern), expected.map(\.bitPattern)) ?? -1)")
    }

    @Test("llama.cpp-quantized Q2_K/Q3_K/Q5_K/Q5_0/Q5_1 decode like gguf-python",
          arguments: [(BlockType.q2_K, "q2_k"), (.q3_K, "q3_k"), (.q5_K, "q5_k"), (.q5_0, "q5_0"), (.q5_1, "q5_1")])
    func llamaMadeBlocks(type: BlockType, stem: String) throws {
        let bytes = try QuantFixtures.bytes("\(stem).bin")
        let expected = try QuantFixtures.floats("\(stem).deq.f32")
        let values = try BlockDequantizer.dequantize(type, bytes: bytes, count: expected.count)
        #expect(bitwiseEqual(values, expected))
    }

    @Test func int8Block32IsReadableAsQ8_0AndAffine32AsQ4_1() throws {
        var random = SeededRandom(seed: 7)
        let row = random.floats(256, in: -2...2)
        let int8 = try QuantizationScheme.int8Block32.quantize(row)
        #expect(try BlockDequantizer.dequantize(.q8_0, bytes: int8, count: 256) == QuantizationScheme.int8Block32.dequantize(int8, count: 256))
        let affine = try QuantizationScheme.affineInt4(groupSize: 32).quantize(row, search: true)
        #expect(try BlockDequantizer.dequantize(.q4_1, bytes: affine, count: 256)
            == QuantizationScheme.affineInt4(groupSize: 32).dequantize(affine, count: 256))
    }
}
