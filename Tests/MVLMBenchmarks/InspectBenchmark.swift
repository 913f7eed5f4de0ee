import Foundation
import MVLMTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Listing a multi-GB checkpoint: wall time and the peak RSS of the `mvlm inspect` process.
///
/// Needs a big checkpoint: `mvlm synth --preset mobilellama-1.4b -o DIR` and
/// `MVLM_BENCH_MODEL=DIR`.
@Suite(
    "benchmark: inspect a multi-GB checkpoint",
    .enabled(if: Bench.enabled && ProcessInfo.processInfo.environment["MVLM_BENCH_MODEL"] != nil,
             "set MVLM_BENCH=1 and MVLM_BENCH_MODEL=<folder from mvlm synth>"))
struct InspectBenchmark {
    @Test func inspectLatencyAndMemory() throws {
        let model = ProcessInfo.processInfo.environment["MVLM_BENCH_MODEL"]!
        var times: [Double] = []
        for _ in 0..<7 {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try CommandLineTool.run(["inspect", model, "--json"])
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            #expect(result.status == 0)
        }
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)  // the largest child: an mvlm inspect run
        times.sort()
        let size = (try? FileManager.default.contentsOfDirectory(atPath: model))?.reduce(0) { total, name in
            total + (((try? FileManager.default.attributesOfItem(atPath: "\(model)/\(name)"))?[.size] as? NSNumber)?.intValue ?? 0)
        } ?? 0
        Bench.report("machine: \(Bench.machine), date \(Date())")
        Bench.report(String(format: "mvlm inspect --json on %.2f GB: median %.3f s (%.3f-%.3f) wall incl. process start, peak RSS %.1f MiB", Double(size) / 1e9, times[3], times[0], times[6], Double(usage.ru_maxrss) / 1024))
    }
}
