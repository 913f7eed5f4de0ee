import Foundation
import MVLMModels
import MVLMTestSupport
import MVLMVerify
import Testing
import MVLMNumPy

/// The per-position statistics and summaries against SciPy / NumPy (Tests/Fixtures/gen_verify.py).
@Suite("verification statistics")
struct StatisticsTests {
    nonisolated(unsafe) static let expected = try! loadExpectedJSON("verify/expected.json")

    static var positionCases: [String] {
        ((expected["positions"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
    }

    @Test("KL divergence, NLL, cosine and top-1 match SciPy", arguments: positionCases)
    func position(name: String) throws {
        let all = try #require(Self.expected["positions"] as? [[String: Any]])
        let want = try #require(all.first { $0["name"] as? String == name })
        let a = try #require(jsonFloats(want["float"])), b = try #require(jsonFloats(want["quantized"]))
        let target = try #require(want["target"] as? Int)
        let got = a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in PositionComparison(float: x, quantized: y, target: target) }
        }
        func close(_ x: Double, _ y: Any?, _ what: String) {
            let reference = (y as? Double) ?? Double((y as? Int) ?? -1)
            #expect(abs(x - reference) <= 1e-9 + 1e-7 * abs(reference), "\(name): \(what) \(x) vs SciPy \(reference)")
        }
        close(got.kld, want["kld"], "KL divergence")
        close(got.floatNLL, want["float_nll"], "float NLL")
        close(got.quantizedNLL, want["quantized_nll"], "quantized NLL")
        close(got.cosine, want["cosine"], "cosine")
        #expect(got.sameTop == (want["same_top"] as? Bool), "\(name): top-1")
    }

    @Test("identical rows have exactly zero KL divergence")
    func identicalIsZero() {
        let row: [Float] = (0..<1000).map { Float($0 % 37) * 0.37 - 5 }
        let got = row.withUnsafeBufferPointer { PositionComparison(float: $0, quantized: $0, target: 3) }
        #expect(got.kld == 0)
        #expect(got.sameTop)
        #expect(got.floatNLL == got.quantizedNLL)
    }

    @Test("mean, median, 99th percentile and max match NumPy")
    func summary() throws {
        let want = try #require(Self.expected["summary"] as? [String: Any])
        let values = try #require(want["values"] as? [Double])
        let got = SampleSummary(values)
        for (value, key) in [(got.mean, "mean"), (got.median, "median"), (got.p99, "p99"), (got.max, "max")] {
            let reference = try #require(want[key] as? Double)
            #expect(abs(value - reference) <= 1e-12 * max(1, abs(reference)), "\(key): \(value) vs NumPy \(reference)")
        }
        let small = try #require(want["small"] as? [String: Any])
        let three = SampleSummary(try #require(small["values"] as? [Double]))
        #expect(abs(three.median - (small["median"] as! Double)) < 1e-15)
        #expect(abs(three.p99 - (small["p99"] as! Double)) < 1e-15)
        #expect(SampleSummary([]) == SampleSummary(mean: 0, median: 0, p99: 0, max: 0))
    }

    @Test("windows follow llama-perplexity: full windows, second half scored; a short input is one window")
    func windows() {
        #expect(EvaluationWindow.windows(count: 1, context: 512).isEmpty)
        let short = EvaluationWindow.windows(count: 300, context: 512)
        #expect(short == [EvaluationWindow(tokens: 0..<300, firstScored: 0)])
        #expect(short[0].scoredCount == 299)
        let long = EvaluationWindow.windows(count: 1300, context: 512)
        #expect(long.map(\.tokens) == [0..<512, 512..<1024])
        #expect(long.allSatisfy { $0.firstScored == 256 && $0.scoredCount == 255 })
    }

    @Test("token ids: inline lists, text files and integer .npy files; bad ids are refused")
    func tokenInput() throws {
        #expect(try TokenInput.parse("1,450, 4996\n7") == [1, 450, 4996, 7])
        #expect(throws: Error.self) { try TokenInput.parse("1,x,3") }
        #expect(throws: Error.self) { try TokenInput.parse("1,-2") }
        #expect(throws: Error.self) { try TokenInput.parse(" ,\n") }
        let folder = try Fixtures.temporaryDirectory()
        let text = folder.appendingPathComponent("ids.txt").path
        try "5 6\n7,8\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(try TokenInput.read(text) == [5, 6, 7, 8])
        // An int64 .npy written byte by byte as NumPy lays it out.
        var header: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var dictionary = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"
        dictionary += String(repeating: " ", count: (64 - (10 + dictionary.utf8.count + 1) % 64) % 64) + "\n"
        header += [UInt8(dictionary.utf8.count & 0xFF), UInt8(dictionary.utf8.count >> 8)] + Array(dictionary.utf8)
        for value: Int64 in [11, 0, 49151] { withUnsafeBytes(of: value.littleEndian) { header += $0 } }
        let npy = folder.appendingPathComponent("ids.npy").path
        try Data(header).write(to: URL(fileURLWithPath: npy))
        #expect(try TokenInput.read(npy) == [11, 0, 49151])
        // A float array is not token ids; a negative id is refused with its position.
        let floats = folder.appendingPathComponent("f.npy").path
        try NumPyFile.writeFloat32([1, 2], shape: [2], to: floats)
        #expect { try TokenInput.read(floats) } throws: { "\($0)".contains("dtype is not one of") && "\($0)".contains("f.npy") }
        var negative: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var int32Header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }"
        int32Header += String(repeating: " ", count: (64 - (10 + int32Header.utf8.count + 1) % 64) % 64) + "\n"
        negative += [UInt8(int32Header.utf8.count), 0] + Array(int32Header.utf8)
        for value: Int32 in [5, -3] { withUnsafeBytes(of: value.littleEndian) { negative += $0 } }
        let negativePath = folder.appendingPathComponent("n.npy").path
        try Data(negative).write(to: URL(fileURLWithPath: negativePath))
        #expect { try TokenInput.read(negativePath) } throws: { "\($0)".contains("element 1 is -3, not a token id") }
        let ids = TokenInput.builtIn(count: 256, vocabularySize: 512)
        #expect(ids.count == 256 && ids.allSatisfy { $0 >= 0 && $0 < 512 })
        #expect(ids == TokenInput.builtIn(count: 256, vocabularySize: 512))
        #expect(Set(ids).count > 150)
    }
}
