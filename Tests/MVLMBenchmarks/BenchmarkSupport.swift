import Foundation

/// Timing helpers for the opt-in benchmark suites (`MVLM_BENCH=1 swift test -c release --filter MVLMBenchmarks`).
enum Bench {
    /// True when benchmarks were asked for.
    static var enabled: Bool { ProcessInfo.processInfo.environment["MVLM_BENCH"] == "1" }

    /// Runs `body` once to warm up, then `repetitions` times; returns the median and the spread
    /// (min, max) in seconds.
    static func measure(repetitions: Int = 5, _ body: () -> Void) -> (median: Double, min: Double, max: Double) {
        body()
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return (times[times.count / 2], times.first!, times.last!)
    }

    /// One line describing the machine, printed with every figure.
    static var machine: String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
    }

    static func report(_ line: String) {
        print("[bench] \(line)")
    }
}
