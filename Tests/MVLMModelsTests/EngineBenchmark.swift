import Foundation
import MVLMCheckpoint
import MVLMModels
import MVLMRuntime
import Testing
import MVLMBenchmarking
import MVLMModelLoading

/// Prefill and decode throughput on a real-sized checkpoint. A benchmark, not a test: it runs
/// only with `MVLM_BENCH=1` (and should be run with `swift test -c release`); otherwise the
/// `.enabled(if:)` trait skips it and Swift Testing reports it as skipped with the comment below.
///
///     MVLM_BENCH=1 MVLM_BENCH_MODEL=/tmp/llama1.4b swift test -c release --filter EngineBenchmarkSuite
///
/// `MVLM_BENCH_MODEL` is a checkpoint folder (e.g. a 1.4B-shaped f16 model from `mvlm synth`);
/// `MVLM_BENCH_PROMPTS` (default `128,512`) and `MVLM_BENCH_THREADS` (default `1,2`) are
/// comma-separated lists.
@Suite struct EngineBenchmarkSuite {
    static let environment = ProcessInfo.processInfo.environment

    static func list(_ key: String, _ fallback: [Int]) -> [Int] {
        environment[key].map { $0.split(separator: ",").compactMap { Int($0) } } ?? fallback
    }

    @Test(
        "float engine prefill and decode throughput",
        .enabled(if: environment["MVLM_BENCH"] == "1", "benchmark skipped: set MVLM_BENCH=1 and MVLM_BENCH_MODEL"))
    func throughput() throws {
        let path = try #require(Self.environment["MVLM_BENCH_MODEL"], "set MVLM_BENCH_MODEL to a checkpoint folder")
        let checkpoint = try Checkpoint.open(path)
        let model = try LanguageModel.load(checkpoint)
        print("machine: \(Interpreter.processorCount) cores; model: \(path), \(model.weightByteCount) weight bytes")
        let results = try EngineBenchmark.run(
            model: model, promptLengths: Self.list("MVLM_BENCH_PROMPTS", [128, 512]),
            threads: Self.list("MVLM_BENCH_THREADS", [1, 2]))
        for result in results { print(result) }
    }
}
