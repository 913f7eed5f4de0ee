#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMCore
import MVLMModels
import MVLMGraph
import Dispatch
import MVLMRuntime

/// Prefill and decode throughput of a `LanguageModel`, with the decode ceiling that memory
/// bandwidth implies. Not a test: callers (the `MVLMBenchmarks` suite, `EngineBenchmark` tests
/// gated by `MVLM_BENCH=1`) run it in release builds on real-sized models.
public enum EngineBenchmark {
    /// Figures for one thread count.
    public struct Result: Sendable, CustomStringConvertible {
        public var threads: Int
        /// Prompt length → median tokens/s of a full prefill (last-position logits only).
        public var prefillTokensPerSecond: [(tokens: Int, rate: Double)]
        /// Prompt length → slowest and fastest tokens/s over the repetitions.
        public var prefillSpread: [(tokens: Int, slowest: Double, fastest: Double)] = []
        /// Median seconds per decode step (after a prefill of `decodeContext` tokens).
        public var decodeSecondsPerToken: Double
        /// Fastest and slowest decode step, seconds.
        public var decodeStepRange: (fastest: Double, slowest: Double) = (0, 0)
        /// Mean seconds per decode step (all steps' time over their count: what llama-bench's `tg`
        /// reports, as tokens/s).
        public var decodeMeanSecondsPerToken: Double = .nan
        public var decodeContext: Int
        /// Bytes of weights one decode step streams (every matrix the step multiplies by).
        public var bytesPerDecodeToken: Int
        /// Measured read bandwidth over the same weights, bytes/s.
        public var readBandwidth: Double
        /// Process CPU seconds per wall second during the decode steps: close to `threads` on an
        /// idle machine; less when other processes share the cores (then the figures are low).
        public var decodeCoresUsed: Double

        public var decodeTokensPerSecond: Double { 1 / decodeSecondsPerToken }
        /// Decode steps over their total time, tokens/s.
        public var decodeMeanTokensPerSecond: Double { 1 / decodeMeanSecondsPerToken }
        /// Effective weight bandwidth of decode, bytes/s.
        public var decodeBandwidth: Double { Double(bytesPerDecodeToken) / decodeSecondsPerToken }
        /// Tokens/s if decode ran at the measured read bandwidth.
        public var decodeCeiling: Double { readBandwidth / Double(bytesPerDecodeToken) }

        public var description: String {
            var parts = ["threads \(threads):"]
            for (tokens, rate) in prefillTokensPerSecond {
                parts.append("prefill \(tokens) tokens \(format(rate, 1)) tok/s;")
            }
            parts.append(
                "decode (context \(decodeContext)) \(format(decodeTokensPerSecond, 2)) tok/s = \(format(decodeBandwidth / 1e9, 2)) GB/s of weights;"
                    + " read bandwidth \(format(readBandwidth / 1e9, 2)) GB/s -> ceiling \(format(decodeCeiling, 2)) tok/s;"
                    + " cores used during decode \(format(decodeCoresUsed, 2))")
            return parts.joined(separator: " ")
        }
    }

    /// Measures `model`.
    /// - Parameters:
    ///   - promptLengths: prefill lengths to time (token ids cycle through the vocabulary).
    ///   - decodeTokens: decode steps timed after a prefill of `decodeContext` tokens.
    ///   - decodeContext: positions in the cache when decode starts (nil: `promptLengths.first`;
    ///     0: an empty cache, as llama-bench's `tg` test).
    ///   - threads: thread counts to measure.
    ///   - repetitions: prefill timings per length (median reported; a warm-up run precedes).
    public static func run(
        model: LanguageModel, promptLengths: [Int] = [128, 512], decodeTokens: Int = 16, decodeContext: Int? = nil,
        threads: [Int] = [1, 2], repetitions: Int = 1
    ) throws -> [Result] {
        let streamed = bytesPerDecodeToken(model)
        var results: [Result] = []
        for threadCount in threads {
            let bandwidth = readBandwidth(model, threads: threadCount)
            var interpreter = try model.makeInterpreter(threads: threadCount)
            func prompt(_ count: Int) -> [Int32] { (0..<count).map { Int32(($0 * 7 + 3) % model.vocabularySize) } }
            // Warm-up: touches every weight page once.
            interpreter.resetCache()
            _ = try interpreter.run(["tokens": .tokens(prompt(8))], outputs: ["last_logits"])
            var prefill: [(Int, Double)] = []
            var spread: [(Int, Double, Double)] = []
            for length in promptLengths {
                var times: [Double] = []
                for _ in 0..<max(repetitions, 1) {
                    interpreter.resetCache()
                    let start = GreedyGenerator.now()
                    _ = try interpreter.run(["tokens": .tokens(prompt(length))], outputs: ["last_logits"])
                    times.append(GreedyGenerator.now() - start)
                }
                prefill.append((length, Double(length) / median(times)))
                spread.append((length, Double(length) / (times.max() ?? .nan), Double(length) / (times.min() ?? .nan)))
            }
            let context = max(decodeContext ?? promptLengths.first ?? 1, 0)
            interpreter.resetCache()
            if context > 0 { _ = try interpreter.run(["tokens": .tokens(prompt(context))], outputs: ["last_logits"]) }
            var steps: [Double] = []
            let decodeStart = (wall: GreedyGenerator.now(), cpu: processCPUTime())
            for step in 0..<max(decodeTokens, 1) {
                let start = GreedyGenerator.now()
                _ = try interpreter.run(["tokens": .tokens([Int32(step % model.vocabularySize)])], outputs: ["last_logits"])
                steps.append(GreedyGenerator.now() - start)
            }
            let cores = (processCPUTime() - decodeStart.cpu) / (GreedyGenerator.now() - decodeStart.wall)
            var result = Result(
                threads: threadCount, prefillTokensPerSecond: prefill, decodeSecondsPerToken: median(steps),
                decodeContext: context, bytesPerDecodeToken: streamed, readBandwidth: bandwidth,
                decodeCoresUsed: cores)
            result.prefillSpread = spread
            result.decodeStepRange = (steps.min() ?? .nan, steps.max() ?? .nan)
            result.decodeMeanSecondsPerToken = steps.reduce(0, +) / Double(steps.count)
            results.append(result)
        }
        return results
    }

    /// Bytes of every weight a `linear` node of the decode path reads (the embedding table only
    /// when it doubles as the output head).
    public static func bytesPerDecodeToken(_ model: LanguageModel) -> Int {
        var names = Set<String>()
        for node in model.graph.nodes where node.operation == .linear {
            if case .weight(let name) = model.graph.nodes[node.inputs[1]].operation { names.insert(name) }
        }
        // The all-positions head and the last-position head share a weight; count it once.
        return names.reduce(0) { $0 + (model.weights[$1]?.byteCount ?? 0) }
    }

    /// Bytes/s of a parallel vector read over the model's matrices (`ParallelRead`, median of three
    /// passes).
    public static func readBandwidth(_ model: LanguageModel, threads: Int) -> Double {
        let tensors = model.weights.values.filter { $0.shape.count == 2 }
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        var times: [Double] = []
        var sink: UInt64 = 0
        for _ in 0..<3 {
            let start = GreedyGenerator.now()
            for tensor in tensors {
                tensor.withUnsafeStoredBytes { bytes in
                    sink &+= ParallelRead.sum(bytes, threads: threads)
                }
            }
            times.append(GreedyGenerator.now() - start)
        }
        if sink == 42 { print("") }  // keeps the reads alive
        return Double(total) / median(times)
    }

    /// CPU seconds used by this process so far (all threads).
    static func processCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }
}

private func format(_ value: Double, _ decimals: Int) -> String {
    var text = String(Int((value * pow(10, Double(decimals))).rounded()))
    while text.count <= decimals { text = "0" + text }
    if decimals > 0 { text.insert(".", at: text.index(text.endIndex, offsetBy: -decimals)) }
    return text
}
