import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTokenizer
import Testing

/// Opt-in throughput figures: `MVLM_BENCH=1 swift test -c release --filter TokenizerBenchmarks`.
/// Encodes the whole reference corpus (2,067 entries, ~120k characters) with warm-up, five
/// repetitions, median and spread, and prints the machine with the figure.
@Suite("Tokenizer benchmarks (opt-in)", .enabled(if: ProcessInfo.processInfo.environment["MVLM_BENCH"] == "1", "set MVLM_BENCH=1"))
struct TokenizerBenchmarks {
    static func measure(_ body: () -> Void) -> (median: Double, min: Double, max: Double) {
        body()
        var times: [Double] = []
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return (times[2], times[0], times[4])
    }

    static var machine: String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    static func report(_ name: String, _ tokenizer: Tokenizer) {
        let corpus = TokenizerFixtures.corpus
        let characters = corpus.reduce(0) { $0 + $1.count }
        var count = 0
        let time = measure {
            count = 0
            for line in corpus { count += tokenizer.encode(line, addBOS: false).count }
        }
        print(
            "[bench] \(name): encode \(corpus.count) entries (\(characters) characters, \(count) ids) median \(String(format: "%.1f", time.median * 1e3)) ms (\(String(format: "%.1f", time.min * 1e3))–\(String(format: "%.1f", time.max * 1e3))), \(String(format: "%.2f", Double(characters) / time.median / 1e6)) M characters/s; \(machine)")
    }

    @Test func encodeCorpus() throws {
        let model = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("sp_bpe.model"))
        Self.report("SentencePiece BPE (3,000 pieces)", try Tokenizer(model: .sentencePiece(model)))
        let unigram = try SentencePieceModel(serializedModel: TokenizerFixtures.bytes("sp_unigram.model"))
        Self.report("SentencePiece unigram (2,000 pieces)", try Tokenizer(model: .sentencePiece(unigram)))
        if TokenizerFixtures.realFiles != nil {
            let start = DispatchTime.now().uptimeNanoseconds
            let tokenizer = try Tokenizer(ggufMetadata: GGUFReader(path: TokenizerFixtures.smolLM2Path).metadata)
            let load = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            print("[bench] SmolLM2 tokenizer from GGUF metadata (49,152 tokens, 48,900 merges): loaded in \(String(format: "%.0f", load)) ms")
            Self.report("SmolLM2 byte-level BPE", tokenizer)
        }
    }
}
