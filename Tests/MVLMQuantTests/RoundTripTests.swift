import Foundation
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

@Suite("Round trip")
struct RoundTripTests {
    /// Documented minimum SNR (dB) on Gaussian rows (docs/quantization.md, "Accuracy").
    static let minimumSNR: [(QuantizationScheme, Double)] = [
        (.q8_0, 38), (.int8Block32, 38), (.int8PerChannel, 33), (.q6_K, 26), (.q4_K, 18.5),
        (.q4_1, 18.5), (.q4_0, 16.5), (.affineInt4(groupSize: 32), 18.5), (.affineInt4(groupSize: 64), 17.5),
        (.affineInt4(groupSize: 128), 16.5),
    ]

    @Test("SNR on Gaussian rows stays above the documented bound", arguments: minimumSNR)
    func snrBound(scheme: QuantizationScheme, bound: Double) throws {
        var random = SeededRandom(seed: 11)
        for rowIndex in 0..<6 {
            let row = (0..<512).map { _ in TestRows.gaussian(&random) * 0.02 }
            for search in [false, true] {
                let values = try scheme.dequantize(scheme.quantize(row, search: search), count: row.count)
                let snr = QuantizationStatistics.snr(row, values)
                #expect(snr >= bound, "\(scheme) row \(rowIndex) search \(search): \(snr) dB")
            }
        }
    }

    @Test("Round-to-nearest error per element is at most half a step", arguments: [
        QuantizationScheme.int8Block32, .int8PerChannel, .affineInt4(groupSize: 32), .affineInt4(groupSize: 64),
        .affineInt4(groupSize: 128), .q8_0, .q4_1,
    ])
    func elementBound(scheme: QuantizationScheme) throws {
        var random = SeededRandom(seed: 12)
        let block = scheme.blockElements == 1 ? 512 : scheme.blockElements
        for _ in 0..<8 {
            let row = random.floats(512, in: -3...2)
            let values = try scheme.dequantize(scheme.quantize(row), count: 512)
            for start in stride(from: 0, to: 512, by: block) {
                let slice = row[start..<(start + block)]
                let low = slice.min()!, high = slice.max()!
                let amax = max(abs(low), abs(high))
                // Step of the grid, with f16 rounding of the stored scale/min (relative 2^-11).
                let step: Float = switch scheme {
                case .int8Block32, .int8PerChannel, .q8_0: amax / 127
                default: (high - low) / 15
                }
                let bound = step * 0.5 * (1 + 1e-3) + (scheme.blockElements == 1 ? 0 : amax * 1e-3)
                for index in start..<(start + block) {
                    #expect(abs(values[index] - row[index]) <= bound, "\(scheme) element \(index)")
                }
            }
        }
    }

    @Test("Zero and constant rows reconstruct exactly where the format can", arguments: QuantizationScheme.allSchemes)
    func zeroRows(scheme: QuantizationScheme) throws {
        let zero = [Float](repeating: 0, count: 256)
        for search in [false, true] {
            let values = try scheme.dequantize(scheme.quantize(zero, search: search), count: 256)
            #expect(values.allSatisfy { $0 == 0 }, "\(scheme)")
        }
    }

    @Test func statistics() {
        let x: [Float] = [1, 2, 3, 4]
        let y: [Float] = [1, 2, 3, 5]
        #expect(QuantizationStatistics.weightedMSE(x, y) == 0.25)
        #expect(QuantizationStatistics.weightedMSE(x, y, weights: [1, 1, 1, 3]) == 0.5)
        #expect(QuantizationStatistics.weightedSquaredError(x, y, weights: [0, 0, 0, 2]) == 2)
        #expect(abs(QuantizationStatistics.snr(x, y) - 10 * log10(30.0)) < 1e-12)
        #expect(QuantizationStatistics.snr(x, x) == .infinity)
    }
}
