import Foundation
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

/// A small GPTQ problem: weights `[rows, columns]` and correlated inputs `[tokens, columns]`.
private struct Problem {
    var rows: Int, columns: Int, tokens: Int
    var weights: [Float]
    var inputs: [Float]

    init(rows: Int, columns: Int, tokens: Int, seed: UInt64) {
        self.rows = rows
        self.columns = columns
        self.tokens = tokens
        var random = SeededRandom(seed: seed)
        weights = (0..<(rows * columns)).map { _ in TestRows.gaussian(&random) * 0.05 }
        // Correlated inputs: a few shared factors plus noise, uneven column scales (as activations are).
        let factors = 8
        let mixing = (0..<(factors * columns)).map { _ in TestRows.gaussian(&random) }
        let columnScale = (0..<columns).map { _ in Float.random(in: 0.2...3, using: &random) }
        var x = [Float](repeating: 0, count: tokens * columns)
        for t in 0..<tokens {
            let z = (0..<factors).map { _ in TestRows.gaussian(&random) }
            for c in 0..<columns {
                var v = 0.3 * TestRows.gaussian(&random)
                for f in 0..<factors { v += z[f] * mixing[f * columns + c] }
                x[t * columns + c] = v * columnScale[c]
            }
        }
        inputs = x
    }

    /// XᵀX in Double (plain loops).
    var secondMoment: [Double] {
        var h = [Double](repeating: 0, count: columns * columns)
        for t in 0..<tokens {
            for i in 0..<columns {
                let xi = Double(inputs[t * columns + i])
                for j in 0..<columns { h[i * columns + j] += xi * Double(inputs[t * columns + j]) }
            }
        }
        return h
    }

    /// ‖(W − Ŵ) Xᵀ‖² in Double.
    func outputError(_ reconstruction: [Float]) -> Double {
        var total = 0.0
        for r in 0..<rows {
            for t in 0..<tokens {
                var s = 0.0
                for c in 0..<columns {
                    s += (Double(weights[r * columns + c]) - Double(reconstruction[r * columns + c])) * Double(inputs[t * columns + c])
                }
                total += s * s
            }
        }
        return total
    }
}

private func gptq(
    _ scheme: QuantizationScheme, _ weights: [Float], rows: Int, columns: Int, factor: [Float], importance: [Float]? = nil,
    search: Bool = false
) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: rows * (try scheme.rowByteCount(elements: columns)))
    try weights.withUnsafeBufferPointer { w in
        try out.withUnsafeMutableBytes { o in
            if let importance {
                try importance.withUnsafeBufferPointer {
                    try GPTQ.quantize(matrix: w, rows: rows, columns: columns, factor: factor, scheme: scheme, importance: $0, search: search, into: o)
                }
            } else {
                try GPTQ.quantize(matrix: w, rows: rows, columns: columns, factor: factor, scheme: scheme, search: search, into: o)
            }
        }
    }
    return out
}

@Suite("GPTQ error-compensating rounding")
struct GPTQTests {
    /// Every scheme with a linear grid of levels (all but IQ4_NL, which GPTQ refuses: see below).
    static let schemes: [QuantizationScheme] = QuantizationScheme.allSchemes.filter(\.hasLinearLevels)

    @Test("GPTQ refuses IQ4_NL's non-linear grid with an error, not a crash")
    func refusesNonLinearGrid() throws {
        #expect(QuantizationScheme.allSchemes.contains { !$0.hasLinearLevels })
        let matrix = [Float](repeating: 0.5, count: 2 * 32)
        var out = [UInt8](repeating: 0, count: 2 * 18)
        let factor = [Float]((0..<(32 * 32)).map { $0 % 33 == 0 ? 1 : 0 })
        #expect(throws: MVLMError.self) {
            try matrix.withUnsafeBufferPointer { m in
                try out.withUnsafeMutableBytes { o in
                    try GPTQ.quantize(matrix: m, rows: 2, columns: 32, factor: factor, scheme: .iq4_NL, into: o)
                }
            }
        }
    }

    @Test("The inverse factor U satisfies (H + λI) · UᵀU = I and is upper triangular")
    func inverseFactor() throws {
        let problem = Problem(rows: 1, columns: 64, tokens: 200, seed: 7)
        let h = problem.secondMoment
        let n = problem.columns
        let damping = 0.01
        let u = try GPTQ.inverseFactor(hessian: h, columns: n, damping: damping)
        let lambda = damping * (0..<n).map { h[$0 * n + $0] }.reduce(0, +) / Double(n)
        for i in 0..<n { for j in 0..<i { #expect(u[i * n + j] == 0) } }
        // P = UᵀU, then (H + λI) P should be the identity (f32 factor: loose tolerance).
        var p = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0...min(i, j) { p[i * n + j] += Double(u[k * n + i]) * Double(u[k * n + j]) } } }
        var worst = 0.0
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for k in 0..<n { s += (h[i * n + k] + (i == k ? lambda : 0)) * p[k * n + j] }
                worst = max(worst, abs(s - (i == j ? 1 : 0)))
            }
        }
        #expect(worst < 1e-3, "largest deviation from the identity: \(worst)")
    }

    @Test("A dead input column (zero diagonal) and a non-finite entry are handled", arguments: [0])
    func degenerateSecondMoment(_ unused: Int) throws {
        var h = [Double](repeating: 0, count: 16)
        h[0] = 2; h[5] = 3; h[15] = 1  // column 2 never active
        let u = try GPTQ.inverseFactor(hessian: h, columns: 4)
        #expect(u.allSatisfy { $0.isFinite })
        h[3] = .nan
        #expect(throws: MVLMError.self) { try GPTQ.inverseFactor(hessian: h, columns: 4) }
        #expect(throws: MVLMError.self) { try GPTQ.inverseFactor(hessian: [1, 0, 0], columns: 2) }
    }

    @Test("A level stored with storeLevel decodes to the grid's value through the scheme's dequantizer", arguments: schemes)
    func levelsDecode(_ scheme: QuantizationScheme) throws {
        let columns = 512
        var random = SeededRandom(seed: 11)
        let row = (0..<columns).map { _ in TestRows.gaussian(&random) }
        var bytes = try scheme.quantize(row)
        var expected = [Float](repeating: 0, count: columns)
        bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            for element in 0..<columns {
                let grid = scheme.grid(element: element, in: UnsafeRawPointer(base))
                let level = Int32.random(in: grid.low...grid.high, using: &random)
                scheme.storeLevel(level, element: element, in: base)
                expected[element] = grid.value(level)
            }
        }
        let decoded = try scheme.dequantize(bytes, count: columns)
        // Numerically equal (the dequantizers give -0 where `step * 0 + 0` is +0).
        #expect(decoded == expected, "first difference at \(firstDifference(decoded, expected) ?? -1)")
    }

    @Test("With H = I nothing is pushed: RTN's block parameters and each weight at a nearest level", arguments: schemes)
    func identityIsRoundToNearest(_ scheme: QuantizationScheme) throws {
        let rows = 4, columns = 256
        var random = SeededRandom(seed: 3)
        let weights = (0..<(rows * columns)).map { _ in TestRows.gaussian(&random) }
        var identity = [Double](repeating: 0, count: columns * columns)
        for i in 0..<columns { identity[i * columns + i] = 1 }
        let factor = try GPTQ.inverseFactor(hessian: identity, columns: columns)
        let ours = try gptq(scheme, weights, rows: rows, columns: columns, factor: factor)
        let rtn = try scheme.quantize(matrix: weights, rows: rows, columns: columns)
        let rowBytes = try scheme.rowByteCount(elements: columns)
        let decoded = try scheme.dequantize(matrix: ours, rows: rows, columns: columns)
        let decodedRTN = try scheme.dequantize(matrix: rtn, rows: rows, columns: columns)
        for r in 0..<rows {
            ours.withUnsafeBytes { o in
                rtn.withUnsafeBytes { n in
                    for c in 0..<columns {
                        let grid = scheme.grid(element: c, in: o.baseAddress! + r * rowBytes)
                        #expect(grid == scheme.grid(element: c, in: n.baseAddress! + r * rowBytes), "row \(r) column \(c)")
                        let x = weights[r * columns + c]
                        let best = (grid.low...grid.high).map { abs(grid.value($0) - x) }.min()!
                        #expect(abs(decoded[r * columns + c] - x) <= best * (1 + 1e-6) + 1e-12, "row \(r) column \(c)")
                    }
                }
            }
        }
        #expect(QuantizationStatistics.weightedSquaredError(weights, decoded) <= QuantizationStatistics.weightedSquaredError(weights, decodedRTN) * (1 + 1e-6))
    }

    @Test("On correlated inputs GPTQ lowers the output error ‖(W − Ŵ)Xᵀ‖ against round-to-nearest and the search", arguments: schemes)
    func reducesOutputError(_ scheme: QuantizationScheme) throws {
        let problem = Problem(rows: 16, columns: 256, tokens: 512, seed: 5)
        let h = problem.secondMoment
        let factor = try GPTQ.inverseFactor(hessian: h, columns: problem.columns)
        let importance = (0..<problem.columns).map { Float(h[$0 * problem.columns + $0] / Double(problem.tokens)) }
        let rtn = try scheme.dequantize(
            matrix: try scheme.quantize(matrix: problem.weights, rows: problem.rows, columns: problem.columns),
            rows: problem.rows, columns: problem.columns)
        let searched = try scheme.dequantize(
            matrix: try scheme.quantize(matrix: problem.weights, rows: problem.rows, columns: problem.columns, importance: importance, search: true),
            rows: problem.rows, columns: problem.columns)
        let ours = try scheme.dequantize(
            matrix: try gptq(scheme, problem.weights, rows: problem.rows, columns: problem.columns, factor: factor, importance: importance, search: true),
            rows: problem.rows, columns: problem.columns)
        let eRTN = problem.outputError(rtn), eSearch = problem.outputError(searched), eGPTQ = problem.outputError(ours)
        #expect(eGPTQ < 0.8 * eRTN, "GPTQ \(eGPTQ) vs RTN \(eRTN)")
        #expect(eGPTQ < 0.9 * eSearch, "GPTQ \(eGPTQ) vs search \(eSearch)")
    }

    @Test("GPTQ for Q4_0 matches a plain Double reference written here")
    func matchesReference() throws {
        let problem = Problem(rows: 8, columns: 128, tokens: 300, seed: 9)
        let n = problem.columns
        let h = problem.secondMoment
        let factor = try GPTQ.inverseFactor(hessian: h, columns: n)
        let ours = try QuantizationScheme.q4_0.dequantize(
            matrix: try gptq(.q4_0, problem.weights, rows: problem.rows, columns: n, factor: factor), rows: problem.rows, columns: n)
        let reference = ReferenceGPTQ.q4_0(problem.weights, rows: problem.rows, columns: n, hessian: h)
        let same = zip(ours, reference).filter { abs($0 - $1) <= 1e-6 * max(abs($0), 1e-3) }.count
        #expect(Double(same) >= 0.97 * Double(ours.count), "\(same) of \(ours.count) weights equal")
        let eOurs = problem.outputError(ours), eReference = problem.outputError(reference)
        #expect(abs(eOurs - eReference) <= 0.03 * eReference, "ours \(eOurs), reference \(eReference)")
    }
}

/// GPTQ as the paper states it, in plain Double: inverse by Gauss-Jordan, upper Cholesky of the
/// inverse, Q4_0 block parameters (d = the element of largest magnitude / -8, stored as f16)
/// chosen from the updated weights at each block start.
enum ReferenceGPTQ {
    static func q4_0(_ w: [Float], rows: Int, columns n: Int, hessian: [Double], damping: Double = 0.01) -> [Float] {
        var a = hessian
        let lambda = damping * (0..<n).map { a[$0 * n + $0] }.reduce(0, +) / Double(n)
        for i in 0..<n { a[i * n + i] += lambda }
        // Gauss-Jordan inverse.
        var inv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inv[i * n + i] = 1 }
        for col in 0..<n {
            let pivot = a[col * n + col]
            for j in 0..<n { a[col * n + j] /= pivot; inv[col * n + j] /= pivot }
            for r in 0..<n where r != col {
                let f = a[r * n + col]
                if f == 0 { continue }
                for j in 0..<n { a[r * n + j] -= f * a[col * n + j]; inv[r * n + j] -= f * inv[col * n + j] }
            }
        }
        // Upper Cholesky: inv = UᵀU.
        var u = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            var s = inv[i * n + i]
            for k in 0..<i { s -= u[k * n + i] * u[k * n + i] }
            u[i * n + i] = s.squareRoot()
            for j in (i + 1)..<max(n, i + 1) {
                var t = inv[i * n + j]
                for k in 0..<i { t -= u[k * n + i] * u[k * n + j] }
                u[i * n + j] = t / u[i * n + i]
            }
        }
        var result = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            var row = (0..<n).map { Double(w[r * n + $0]) }
            var d = 0.0
            for i in 0..<n {
                if i % 32 == 0 {
                    let block = row[i..<(i + 32)]
                    let m = block.max(by: { abs($0) < abs($1) })!
                    d = Double(Float(Float16(Float(m / -8))))
                }
                let q = d == 0 ? 0 : min(max((row[i] / d).rounded(.toNearestOrEven), -8), 7)
                let value = Float(d * q)
                result[r * n + i] = value
                let error = (row[i] - Double(value)) / u[i * n + i]
                for j in (i + 1)..<max(n, i + 1) { row[j] -= error * u[i * n + j] }
            }
        }
        return result
    }
}

@Suite("Equivalence-preserving channel scaling (AWQ-style)")
struct ChannelScalingTests {
    /// RMSNorm then a linear layer, in Double: W (g ⊙ x / rms(x)).
    static func normLinear(_ x: [Float], norm g: [Float], weights w: [Float], columns: Int) -> [Double] {
        let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(columns) + 1e-5).squareRoot()
        let y = (0..<columns).map { Double(g[$0]) * Double(x[$0]) / rms }
        return (0..<(w.count / columns)).map { r in (0..<columns).reduce(0.0) { $0 + Double(w[r * columns + $1]) * y[$1] } }
    }

    @Test("Folding the scales into the norm weight leaves the float output unchanged (f32 rounding)")
    func foldIsEquivalent() throws {
        let columns = 64, rows = 8
        var random = SeededRandom(seed: 21)
        let g = (0..<columns).map { _ in Float.random(in: 0.5...2, using: &random) }
        let w = (0..<(rows * columns)).map { _ in TestRows.gaussian(&random) * 0.1 }
        let magnitudes = (0..<columns).map { _ in Float.random(in: 0.01...10, using: &random) }
        let s = ChannelScaling.scales(magnitudes: magnitudes, alpha: 0.7)
        let x = (0..<columns).map { _ in TestRows.gaussian(&random) }
        let before = Self.normLinear(x, norm: g, weights: w, columns: columns)
        let after = Self.normLinear(
            x, norm: ChannelScaling.foldIntoNorm(g, by: s), weights: ChannelScaling.scaleColumns(w, columns: columns, by: s),
            columns: columns)
        for (a, b) in zip(before, after) { #expect(abs(a - b) <= 1e-5 * max(abs(a), 1), "\(a) vs \(b)") }
        #expect(s.contains { abs($0 - 1) > 0.1 })  // the scaling did something
    }

    @Test("The search never loses to no scaling and wins on channels of uneven size", arguments: [QuantizationScheme.q4_0, .q4_1, .q5_0])
    func searchHelps(_ scheme: QuantizationScheme) throws {
        let columns = 256, rows = 16
        var random = SeededRandom(seed: 4)
        let w = (0..<(rows * columns)).map { _ in TestRows.gaussian(&random) * 0.05 }
        // A few loud channels, as in real activations.
        let meanSquares = (0..<columns).map { $0 % 37 == 0 ? Float(400) : Float.random(in: 0.1...2, using: &random) }
        let choice = try ChannelScaling.search(matrices: [w], columns: columns, meanSquares: meanSquares, scheme: scheme)
        #expect(choice.error <= choice.unscaledError)
        #expect(choice.alpha > 0 && choice.error < 0.9 * choice.unscaledError, "α \(choice.alpha): \(choice.error) vs \(choice.unscaledError)")
    }
}
