import Foundation
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

/// Rows chosen to stress scale choice: random, and adversarial shapes.
enum TestRows {
    static func generate(length: Int = 256) throws -> [(String, [Float])] {
        var random = SeededRandom(seed: 42)
        var rows: [(String, [Float])] = []
        for index in 0..<8 {
            let scale = Float.random(in: 0.001...3, using: &random)
            rows.append(("normal_\(index)", (0..<length).map { _ in gaussian(&random) * scale }))
        }
        for index in 0..<4 {
            rows.append(("uniform_\(index)", random.floats(length, in: -1...Float(index + 1))))
        }
        // Adversarial: one big outlier, two levels, ramps, half-integer ties, alternating signs,
        // exact multiples of the RTN step, constant, zero, tiny.
        var outlier = random.floats(length, in: -0.01...0.01)
        outlier[length / 3] = 5
        rows.append(("outlier", outlier))
        rows.append(("two_levels", (0..<length).map { $0 % 7 == 0 ? 1 : -0.125 }))
        rows.append(("ramp", (0..<length).map { Float($0) / Float(length) - 0.3 }))
        rows.append(("ties", (0..<length).map { Float(($0 % 33) - 16) / 2 }))
        rows.append(("alternating", (0..<length).map { $0 % 2 == 0 ? 0.7 : -0.69 }))
        rows.append(("exact_grid", (0..<length).map { Float(($0 % 16)) * 0.0625 - 0.5 }))
        rows.append(("constant", [Float](repeating: 0.3, count: length)))
        rows.append(("zero", [Float](repeating: 0, count: length)))
        rows.append(("tiny", random.floats(length, in: -1e-30...1e-30)))
        rows.append(("f16_extremes", (0..<length).map { $0 % 5 == 0 ? 65504 : Float($0 % 9) * -7000 }))
        // Every named fixture row and every third random one.
        for (index, (name, values)) in try QuantFixtures.rows().enumerated() where index < 20 || index % 3 == 0 {
            rows.append(("fixture_" + name, values))
        }
        return rows
    }

    static func gaussian(_ random: inout SeededRandom) -> Float {
        let u1 = Float.random(in: Float.ulpOfOne...1, using: &random)
        let u2 = Float.random(in: 0...1, using: &random)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    static func importance(length: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<length).map { _ in
            let u = Float.random(in: 0...1, using: &random)
            return u < 0.1 ? Float.random(in: 10...100, using: &random) : Float.random(in: 0...1, using: &random)
        }
    }
}

@Suite("Scale search")
struct SearchTests {
    static let searchable: [QuantizationScheme] = [
        .int8PerChannel, .int8Block32, .affineInt4(groupSize: 32), .affineInt4(groupSize: 64),
        .affineInt4(groupSize: 128), .q8_0, .q4_0, .q4_1, .q5_0,
    ]

    @Test("Search is never worse than round-to-nearest, on every row", arguments: searchable)
    func neverWorse(scheme: QuantizationScheme) throws {
        let importance = TestRows.importance(length: 256, seed: 9)
        var improvedRows = 0
        let rows = try TestRows.generate()
        for (name, row) in rows {
            for weights in [nil, importance] {
                let plain = try scheme.dequantize(scheme.quantize(row, search: false), count: row.count)
                let searched = try scheme.dequantize(
                    scheme.quantize(row, importance: weights, search: true), count: row.count)
                let plainError = QuantizationStatistics.weightedSquaredError(row, plain, weights: weights)
                let searchedError = QuantizationStatistics.weightedSquaredError(row, searched, weights: weights)
                #expect(searchedError <= plainError, "\(scheme) \(name) weighted: \(weights != nil): \(searchedError) > \(plainError)")
                if searchedError < plainError { improvedRows += 1 }
            }
        }
        // The search must actually help on most rows.
        #expect(improvedRows > rows.count, "\(scheme): search improved only \(improvedRows) of \(2 * rows.count)")
    }

    @Test("Importance weights move the error toward important columns", arguments: searchable)
    func importanceHelps(scheme: QuantizationScheme) throws {
        var strictlyBetter = 0
        for (index, (name, row)) in try TestRows.generate().enumerated() {
            let importance = TestRows.importance(length: row.count, seed: UInt64(100 + index))
            let weighted = try scheme.dequantize(scheme.quantize(row, importance: importance, search: true), count: row.count)
            let unweighted = try scheme.dequantize(scheme.quantize(row, search: true), count: row.count)
            let weightedError = QuantizationStatistics.weightedSquaredError(row, weighted, weights: importance)
            let unweightedError = QuantizationStatistics.weightedSquaredError(row, unweighted, weights: importance)
            // Candidates are compared with Float sums, hence the relative tolerance.
            #expect(weightedError <= unweightedError * (1 + 1e-5) + 1e-30, "\(scheme) \(name): \(weightedError) > \(unweightedError)")
            if weightedError < unweightedError * (1 - 1e-6) { strictlyBetter += 1 }
        }
        #expect(strictlyBetter > 10, "\(scheme): importance changed the result on only \(strictlyBetter) rows")
    }

    @Test func searchedGGUFBlocksStayReadable() throws {
        var random = SeededRandom(seed: 3)
        let row = random.floats(512, in: -1...1)
        for (scheme, type) in [(QuantizationScheme.q8_0, BlockType.q8_0), (.q4_0, .q4_0), (.q4_1, .q4_1)] {
            let bytes = try scheme.quantize(row, search: true)
            #expect(try BlockDequantizer.dequantize(type, bytes: bytes, count: 512) == scheme.dequantize(bytes, count: 512))
        }
    }

    @Test("Q4_K and Q6_K ignore search (the reference already searches)", arguments: [QuantizationScheme.q4_K, .q6_K])
    func kQuantsSearchIsReference(scheme: QuantizationScheme) throws {
        var random = SeededRandom(seed: 5)
        let row = random.floats(512, in: -1...1)
        #expect(try scheme.quantize(row, search: true) == scheme.quantize(row))
    }
}
