import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModels
import MVLMRuntime
import MVLMBenchmarking
import MVLMModelLoading
import MVLMConversionJob

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed of a model against the machine's memory bandwidth.",
        discussion: """
            Opens MODEL (an .mvlm file, a checkpoint folder or a weights file) the way `mvlm run` \
            does, times the time to first token, prefill of --prompt-tokens tokens (--repetitions \
            runs after a warm-up; median, slowest and fastest) and --gen-tokens decode steps \
            (median step, fastest and slowest, and the mean: all steps' time over their count, what \
            llama-bench's `tg` reports) starting from --decode-context cached positions (default 0, \
            an empty cache, as llama-bench's `tg` test; attention over a longer context adds its \
            cost per step), and measures the read bandwidth over the same weights with a parallel \
            vector read on the kernels' threads. Decode of a language model streams every weight \
            once per token, so bandwidth / bytes per token is the decode ceiling; the percentage of \
            it that decode reaches says how much is left to gain.

            Run on a quiet machine and compare only runs done back to back; `cores used` below the \
            thread count means other processes took CPU time. Token ids cycle through the \
            vocabulary (speed does not depend on them).

            Examples:
              mvlm bench ml14-q4_0.mvlm --threads 2
              mvlm bench ml14-q4_k_m.mvlm --threads 1 --prompt-tokens 512 --gen-tokens 64 --json
              mvlm bench ml14-q4_0.mvlm --gen-tokens 64 --decode-context 512
              MVLM_PROFILE=1 mvlm bench mvlm2.mvlm --threads 2 --image photo.png   # encode split by part

            A vision-language model also gets its image encode timed (tower + projector, after one \
            warm-up, median and spread of --repetitions): on --image FILE, or a fixed pseudo-random \
            image. With MVLM_PROFILE=1 the encode is split into products, attention, elementwise \
            operations and the projector (medians per part).
            """)

    @Argument(help: "An .mvlm file, a checkpoint folder or a weights file.")
    var model: String

    @Option(parsing: .unconditional, help: "Kernel threads (default: all cores).")
    var threads: Int?

    @Option(parsing: .unconditional, help: "Prompt length for the prefill timing.")
    var promptTokens: Int = 128

    @Option(parsing: .unconditional, help: "Decode steps timed (starting from --decode-context cached positions).")
    var genTokens: Int = 32

    @Option(parsing: .unconditional, help: "Positions in the key/value cache when the decode timing starts (0: empty, as llama-bench's tg).")
    var decodeContext: Int = 0

    @Option(parsing: .unconditional, help: "Prefill timings (after one warm-up); the median is reported.")
    var repetitions: Int = 3

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "A vision-language model: time the image encode on this image file (PNG or JPEG) instead of a fixed pseudo-random image.",
        valueName: "file"))
    var image: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if decodeContext < 0 { throw ValidationError("--decode-context must be 0 or more") }
        if promptTokens < 1 || genTokens < 1 || repetitions < 1 {
            throw ValidationError("--prompt-tokens, --gen-tokens and --repetitions must be at least 1")
        }
    }

    func run() throws {
        try InputPaths.check([model])
        let threadCount = threads ?? Interpreter.processorCount
        let opened = GreedyGenerator.now()
        let checkpoint = try Checkpoint.open(model)
        let languageModel = try LanguageModel.load(checkpoint)
        var interpreter = try languageModel.makeInterpreter(threads: threadCount)
        _ = try interpreter.run(["tokens": .tokens([1])], outputs: ["last_logits"])
        let paths = KernelPathReport(interpreter, promptTokens: promptTokens)
        let firstToken = GreedyGenerator.now() - opened
        let result = try EngineBenchmark.run(
            model: languageModel, promptLengths: [promptTokens], decodeTokens: genTokens, decodeContext: decodeContext,
            threads: [threadCount],
            repetitions: repetitions)[0]
        // A vision-language model: image encode time (tower + projector) on a fixed
        // pseudo-random image, after one warm-up, median of the repetitions.
        // With MVLM_PROFILE=1 each encode is also split by part (products, attention, elementwise,
        // projector); the median of each part is reported.
        var encode: [Double] = []
        var partSeconds: [String: [Double]] = [:]
        if image != nil { _ = try languageModel.requireVision() }
        if let vision = languageModel.multimodal {
            let c = vision.configuration
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            let pixels = try image.map { try ImageInput.pixelValues(image: $0, tensor: nil, model: languageModel) }
                ?? (0..<(c.channels * c.imageSize * c.imageSize)).map { _ -> Float in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
                }
            _ = try languageModel.encodeImage(pixels, threads: threadCount)
            for _ in 0..<repetitions {
                let encoding = try languageModel.encodeImage(pixels, threads: threadCount)
                encode.append(encoding.seconds)
                for (part, seconds) in encoding.parts { partSeconds[part, default: []].append(seconds) }
            }
            encode.sort()
        }
        let encodeMedian = encode.isEmpty ? nil : encode[encode.count / 2]
        let partMedians = partSeconds.mapValues { $0.sorted()[$0.count / 2] }
        let fileBytes = checkpoint.files.reduce(0) { $0 + $1.bytes }
        let prefill = result.prefillTokensPerSecond[0].rate
        let spread = result.prefillSpread.first
        let ceilingPercent = result.decodeTokensPerSecond / result.decodeCeiling * 100
        if json {
            var object: [String: MetadataValue] = [
                "model": .string(model), "format": .string(checkpoint.format.rawValue), "file_bytes": .int(Int64(fileBytes)),
                "threads": .int(Int64(threadCount)), "prompt_tokens": .int(Int64(promptTokens)), "gen_tokens": .int(Int64(genTokens)),
                "decode_context": .int(Int64(result.decodeContext)),
                "time_to_first_token_seconds": .float(firstToken),
                "prefill_tokens_per_second": .float(prefill),
                "prefill_spread": .object(["slowest": .float(spread?.slowest ?? .nan), "fastest": .float(spread?.fastest ?? .nan)]),
                "decode_tokens_per_second": .float(result.decodeTokensPerSecond),
                "decode_mean_tokens_per_second": .float(result.decodeMeanTokensPerSecond),
                "decode_spread": .object([
                    "slowest": .float(1 / result.decodeStepRange.slowest), "fastest": .float(1 / result.decodeStepRange.fastest),
                ]),
                "bytes_per_decode_token": .int(Int64(result.bytesPerDecodeToken)),
                "decode_gb_per_second": .float(result.decodeBandwidth / 1e9),
                "read_bandwidth_gb_per_second": .float(result.readBandwidth / 1e9),
                "decode_ceiling_tokens_per_second": .float(result.decodeCeiling),
                "decode_percent_of_ceiling": .float(ceilingPercent),
                "decode_cores_used": .float(result.decodeCoresUsed),
                "kernel_paths": paths.metadata,
            ]
            if let encodeMedian {
                object["image_encode_seconds"] = .float(encodeMedian)
                object["image_encode_spread"] = .object(["fastest": .float(encode.first!), "slowest": .float(encode.last!)])
                if !partMedians.isEmpty { object["image_encode_parts_seconds"] = .object(partMedians.mapValues { .float($0) }) }
            }
            print(try JSONOutput.text(object))
            return
        }
        func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        print("\(model): \(checkpoint.format.rawValue), \(ByteCountText.format(fileBytes)), \(threadCount) thread\(threadCount == 1 ? "" : "s")")
        for line in paths.lines(label: "kernels") { print(line) }
        print("  time to first token  \(f(firstToken, 3)) s (open, bind weights, one token)")
        print("  prefill \(promptTokens) tokens   \(f(prefill)) tok/s median (\(f(spread?.slowest ?? .nan))-\(f(spread?.fastest ?? .nan)) over \(repetitions))")
        print("  decode \(genTokens) tokens     \(f(result.decodeTokensPerSecond, 2)) tok/s median step (\(f(1 / result.decodeStepRange.slowest, 2))-\(f(1 / result.decodeStepRange.fastest, 2)); mean \(f(result.decodeMeanTokensPerSecond, 2))), \(f(result.decodeBandwidth / 1e9, 2)) GB/s of weights, from context \(result.decodeContext)")
        print("  memory bandwidth     \(f(result.readBandwidth / 1e9, 2)) GB/s read -> decode ceiling \(f(result.decodeCeiling, 2)) tok/s; decode reaches \(f(ceilingPercent))%")
        print("  cores used (decode)  \(f(result.decodeCoresUsed, 2)) of \(threadCount)")
        if let encodeMedian {
            print("  image encode         \(f(encodeMedian, 3)) s median (\(f(encode.first!, 3))-\(f(encode.last!, 3)) over \(repetitions)), tower + projector\(image == nil ? "" : ", \(image!)")")
            if !partMedians.isEmpty {
                let split = ProfilePart.allCases.compactMap { part in partMedians[part.rawValue].map { "\(part.rawValue) \(f($0, 3)) s" } }
                print("    by part (medians)  \(split.joined(separator: ", "))")
            }
        }
    }
}
