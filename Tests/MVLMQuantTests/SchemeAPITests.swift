import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@Suite("Scheme descriptions and hostile input")
struct SchemeAPITests {
    @Test func namesSizesAndDTypes() throws {
        #expect(QuantizationScheme.allSchemes.map(\.name) == [
            "Q8_0", "Q4_0", "Q4_1", "Q5_0", "IQ4_NL", "Q4_K", "Q6_K", "INT8_PC", "INT8_B32", "AFFINE4_G32", "AFFINE4_G64", "AFFINE4_G128",
        ])
        for scheme in QuantizationScheme.allSchemes {
            #expect(QuantizationScheme(name: scheme.name) == scheme)
            if let type = scheme.blockType {
                #expect(scheme.dtype == .block(type))
                #expect(scheme.blockBytes == type.blockBytes && scheme.blockElements == type.blockElements)
                #expect(QuantizationScheme(blockType: type) == scheme)
            } else {
                #expect(scheme.dtype == nil)
            }
        }
        #expect(QuantizationScheme.q4_K.bitsPerWeight == 4.5)
        #expect(QuantizationScheme.q6_K.bitsPerWeight == 6.5625)
        #expect(QuantizationScheme.affineInt4(groupSize: 128).bitsPerWeight == 4.25)
        #expect(QuantizationScheme.int8PerChannel.bitsPerWeight == 8)
        #expect(try QuantizationScheme.int8PerChannel.rowByteCount(elements: 100) == 104)
        #expect(try QuantizationScheme.affineInt4(groupSize: 64).rowByteCount(elements: 128) == 72)
    }

    @Test("Rows with NaN or infinity throw an error naming the row and element",
          arguments: [Float.nan, .infinity, -.infinity])
    func nonFinite(bad: Float) throws {
        for scheme in QuantizationScheme.allSchemes {
            var matrix = [Float](repeating: 0.5, count: 4 * 256)
            matrix[2 * 256 + 17] = bad
            do {
                _ = try scheme.quantize(matrix: matrix, rows: 4, columns: 256, search: true)
                Issue.record("\(scheme): no error")
            } catch let error as MVLMError {
                #expect(error.code == .invalidArgument)
                #expect(error.subject == "row 2", "\(error)")
                #expect(error.message.contains("element 17"), "\(error)")
            }
            var row = [Float](repeating: 1, count: 256)
            row[255] = bad
            #expect(throws: MVLMError.self) { try scheme.quantize(row) }
        }
    }

    @Test func wrongLengthsThrow() throws {
        for scheme in QuantizationScheme.allSchemes where scheme.blockElements > 1 {
            #expect(throws: MVLMError.self) { try scheme.quantize([Float](repeating: 1, count: scheme.blockElements + 1)) }
            #expect(throws: MVLMError.self) { try scheme.quantize([]) }
            #expect(throws: MVLMError.self) { try scheme.dequantize([UInt8](repeating: 0, count: scheme.blockBytes + 1), count: scheme.blockElements) }
        }
        #expect(throws: MVLMError.self) { try QuantizationScheme.int8PerChannel.quantize([]) }
        #expect(throws: MVLMError.self) { try QuantizationScheme.affineInt4(groupSize: 48).quantize([Float](repeating: 1, count: 96)) }
        #expect(throws: MVLMError.self) { try QuantizationScheme.q8_0.quantize(matrix: [Float](repeating: 1, count: 63), rows: 2, columns: 32) }
        #expect(throws: MVLMError.self) { try QuantizationScheme.q8_0.dequantize(matrix: [UInt8](repeating: 0, count: 67), rows: 2, columns: 32) }
        #expect(throws: MVLMError.self) { try BlockDequantizer.dequantize(.iq2_XXS, bytes: [UInt8](repeating: 0, count: 66), count: 256) }
        #expect(throws: MVLMError.self) { try BlockDequantizer.dequantize(.q6_K, bytes: [UInt8](repeating: 0, count: 209), count: 256) }
        // INT8_PC: 2 rows of 5 take 2 × (4 + 5) bytes; a short buffer or rows that do not divide the count are refused.
        #expect(try BlockDequantizer.dequantize(.int8PerChannel, bytes: [UInt8](repeating: 0, count: 18), count: 10, rowLength: 5).count == 10)
        #expect { try BlockDequantizer.dequantize(.int8PerChannel, bytes: [UInt8](repeating: 0, count: 17), count: 10, rowLength: 5) } throws: {
            "\($0)".contains("INT8_PC") && "\($0)".contains("need 18 bytes")
        }
        #expect { try BlockDequantizer.dequantize(.int8PerChannel, bytes: [UInt8](repeating: 0, count: 18), count: 10, rowLength: 4) } throws: {
            "\($0)".contains("INT8_PC") && "\($0)".contains("rows of 4")
        }
        // Too small a destination.
        let row = [Float](repeating: 1, count: 32)
        var out = [UInt8](repeating: 0, count: 33)
        row.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBytes { destination in
                _ = #expect(throws: MVLMError.self) { try QuantizationScheme.q8_0.quantize(row: x, into: destination) }
            }
        }
    }

    @Test func badImportanceThrows() throws {
        let row = [Float](repeating: 1, count: 64)
        for importance in [[Float](repeating: 1, count: 63), [Float](repeating: -1, count: 64), [Float](repeating: .nan, count: 64)] {
            #expect(throws: MVLMError.self) { try QuantizationScheme.int8Block32.quantize(row, importance: importance, search: true) }
        }
    }

    @Test("Extreme but finite rows never trap", arguments: QuantizationScheme.allSchemes)
    func extremes(scheme: QuantizationScheme) throws {
        let rows: [[Float]] = [
            [Float](repeating: .greatestFiniteMagnitude, count: 256),
            (0..<256).map { $0 % 2 == 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude },
            (0..<256).map { Float($0) * .leastNonzeroMagnitude },
            (0..<256).map { $0 == 7 ? 1e-38 : 0 },
            (0..<256).map { $0 % 3 == 0 ? 1e30 : 1e-30 },
        ]
        for row in rows {
            for search in [false, true] {
                let bytes = try scheme.quantize(row, importance: [Float](repeating: 1, count: 256), search: search)
                _ = try scheme.dequantize(bytes, count: 256)
            }
        }
    }

    @Test func matrixEqualsRows() throws {
        var random = SeededRandom(seed: 21)
        let rows = 7, columns = 256
        let matrix = random.floats(rows * columns, in: -1...1)
        let importance = TestRows.importance(length: columns, seed: 4)
        for scheme in QuantizationScheme.allSchemes {
            let whole = try scheme.quantize(matrix: matrix, rows: rows, columns: columns, importance: importance, search: true)
            var single: [UInt8] = []
            for row in 0..<rows {
                single += try scheme.quantize(Array(matrix[(row * columns)..<((row + 1) * columns)]), importance: importance, search: true)
            }
            #expect(whole == single, "\(scheme)")
            let values = try scheme.dequantize(matrix: whole, rows: rows, columns: columns)
            #expect(values.count == matrix.count)
        }
    }
}
