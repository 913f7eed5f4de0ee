import Dispatch
import Foundation
import MVLMCore
import MVLMQuant
import MVLMTestSupport
import Testing

/// Throughput of every scheme on one thread (and the parallel matrix path), in weights per second.
///
/// Opt-in: these take tens of seconds and only mean something in release mode, so they run only
/// with `MVLM_BENCH=1 swift test -c release --scratch-path .build-quant --filter QuantizationBenchmarks`
/// (add `-Xswiftc -enable-testing` while other test targets use `@testable import`).
/// `MVLM_BENCH_SCHEMES=Q4_K,Q6_K` restricts the run to some schemes.
@Suite("Quantization throughput", .enabled(if: ProcessInfo.processInfo.environment["MVLM_BENCH"] == "1", "benchmark: set MVLM_BENCH=1 and use -c release -Xswiftc -enable-testing"))
struct QuantizationBenchmarks {
    static let rows = 256, columns = 4096

    static func matrix() -> [Float] {
        var random = SeededRandom(seed: 77)
        return (0..<(rows * columns)).map { _ in TestRows.gaussian(&random) * 0.02 }
    }

    /// Median, min and max of `repetitions` timings after one warm-up run.
    static func measure(repetitions: Int = 5, _ body: () throws -> Void) rethrows -> (median: Double, best: Double, worst: Double) {
        try body()
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return (times[times.count / 2], times.first!, times.last!)
    }

    static func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    @Test("Single-thread quantization throughput per scheme")
    func singleThread() throws {
        let matrix = Self.matrix()
        let importance = TestRows.importance(length: Self.columns, seed: 1)
        print("machine: \(Self.machine())")
        let weights = Double(Self.rows * Self.columns)
        let only = ProcessInfo.processInfo.environment["MVLM_BENCH_SCHEMES"]?.split(separator: ",").map(String.init)
        for scheme in QuantizationScheme.allSchemes where only?.contains(scheme.name) ?? true {
            let rowBytes = try scheme.rowByteCount(elements: Self.columns)
            var out = [UInt8](repeating: 0, count: Self.rows * rowBytes)
            for (label, search, useImportance) in [("rtn", false, false), ("search", true, false), ("search+imp", true, true)] {
                if search && !useImportance && (scheme == .q4_K || scheme == .q6_K) { continue }  // same as rtn
                let time = try matrix.withUnsafeBufferPointer { x in
                    try out.withUnsafeMutableBytes { o in
                        try importance.withUnsafeBufferPointer { w in
                            try Self.measure {
                                for row in 0..<Self.rows {
                                    try scheme.quantize(
                                        row: UnsafeBufferPointer(rebasing: x[(row * Self.columns)..<((row + 1) * Self.columns)]),
                                        into: UnsafeMutableRawBufferPointer(rebasing: o[(row * rowBytes)..<((row + 1) * rowBytes)]),
                                        importance: useImportance ? w : nil, search: search)
                                }
                            }
                        }
                    }
                }
                let values = try scheme.dequantize(matrix: out, rows: Self.rows, columns: Self.columns)
                print(String(format: "%@ %@: %.1f M weights/s per core (median; range %.1f-%.1f), SNR %.2f dB",
                             scheme.name, label, weights / time.median / 1e6, weights / time.worst / 1e6, weights / time.best / 1e6,
                             QuantizationStatistics.snr(matrix, values)))
            }
            var values = [Float](repeating: 0, count: Self.columns)
            let dequantize = try out.withUnsafeBytes { o in
                try values.withUnsafeMutableBufferPointer { y in
                    try Self.measure {
                        for row in 0..<Self.rows {
                            try scheme.dequantize(from: UnsafeRawBufferPointer(rebasing: o[(row * rowBytes)..<((row + 1) * rowBytes)]), into: y)
                        }
                    }
                }
            }
            print(String(format: "%@ dequantize: %.1f M weights/s per core", scheme.name, weights / dequantize.median / 1e6))
        }
    }

    @Test("Parallel matrix quantization throughput")
    func parallel() throws {
        let matrix = Self.matrix()
        let weights = Double(Self.rows * Self.columns)
        for scheme in [QuantizationScheme.q4_K, .q6_K, .q4_0] {
            let time = try Self.measure { _ = try scheme.quantize(matrix: matrix, rows: Self.rows, columns: Self.columns) }
            print(String(format: "%@ matrix (%d cores): %.1f M weights/s", scheme.name,
                         ProcessInfo.processInfo.activeProcessorCount, weights / time.median / 1e6))
        }
    }
}
