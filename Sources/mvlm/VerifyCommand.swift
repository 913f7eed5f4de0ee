import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMConversionJob
import MVLMCore
import MVLMFileIO
import MVLMModelFile
import MVLMModels
import MVLMRuntime
import MVLMTokenizer
import MVLMVerify
import MVLMModelLoading

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an .mvlm file: its checksums, or how much accuracy it lost against its source.",
        discussion: """
            --integrity recomputes the CRC-32 of every tensor and compares it with the manifest \
            (exit 0 when all match, 1 naming the damaged tensors otherwise).

            --against SRC runs the float source model and the file's stored (quantized) weights on \
            the same tokens and reports: the KL divergence of the file's next-token distribution \
            from the source's at every scored position (mean, median, 99th percentile, max, in \
            nats), top-1 agreement, the perplexity of both and their ratio, the mean cosine of the \
            logits, the SNR of the hidden state after every block (where the error enters), the \
            tensors with the lowest weight-reconstruction SNR, bits per weight and file size.

            Long inputs are cut into windows of --ctx tokens, each evaluated from an empty cache, \
            and only the second half of each window is scored, as llama-perplexity does; an input \
            of one window or less is scored from its first position. Without --tokens a built-in \
            input of 256 pseudo-random ids is used (the same everywhere). Token ids come from the \
            model's own tokenizer, e.g. `llama-tokenize --ids` or Python `tokenizers`; --text FILE \
            tokenizes a text with the source's tokenizer (tokenizer.model or tokenizer.json beside it, \
            or --tokenizer PATH, which may also be a .gguf).

            Exit codes: 0 passed (or no budget given); 3 a budget (--max-kld, --min-top1) was \
            exceeded (the report is still printed and written); 1 any other failure; 64 bad usage.

            Examples:
              mvlm verify model.mvlm --integrity
              mvlm verify model-q4.mvlm --against ./MobileLLaMA-1.4B --tokens ids.txt
              mvlm verify model-q4.mvlm --against ./SmolLM2 --tokens gpl3.npy --ctx 512 --json report.json
              mvlm verify model-q4.mvlm --against ./src --max-kld 0.05 --min-top1 0.9 --json -
            """)

    @Argument(help: "The .mvlm file.")
    var model: String

    @Flag(help: "Check every tensor's checksum.")
    var integrity = false

    @Option(help: ArgumentHelp("The float checkpoint (file or folder) the file was converted from.", valueName: "SRC"))
    var against: String?

    @Option(help: ArgumentHelp("Token ids: a list (1,450,4996), a .txt of ids, or an integer .npy.", valueName: "IDS"))
    var tokens: String?

    @Option(help: ArgumentHelp("A text file, tokenized with the source's tokenizer (or --tokenizer).", valueName: "FILE"))
    var text: String?

    @Option(help: ArgumentHelp("Where the tokenizer is: a folder, tokenizer.model, tokenizer.json or a .gguf.", valueName: "PATH"))
    var tokenizer: String?

    @OptionGroup var checks: VerificationOptions
    var image: String? { checks.image }
    var imageTensor: String? { checks.imageTensor }
    var maxKld: Double? { checks.maxKld }
    var minTop1: Double? { checks.minTop1 }

    @Option(help: ArgumentHelp("The source's CLIP folder, when its vision tower is not known otherwise (default: the tower configuration stored in the file).", valueName: "DIR"))
    var visionTower: String?

    @Option(parsing: .unconditional, help: "Window length in tokens for long inputs.")
    var ctx: Int = 512

    @Option(parsing: .unconditional, help: "Kernel threads (default: all cores).")
    var threads: Int?


    @Flag(help: "Skip the per-tensor weight-reconstruction SNR (saves one read of both files).")
    var noWeights = false

    @Option(help: ArgumentHelp("Write the result as one JSON object to FILE (- for standard output).", valueName: "FILE"))
    var json: String?

    func validate() throws {
        guard integrity != (against != nil) else {
            throw ValidationError("say what to verify: --integrity (checksums) or --against SRC (accuracy against the float source)")
        }
        if integrity && (tokens != nil || text != nil || tokenizer != nil || maxKld != nil || minTop1 != nil || image != nil || imageTensor != nil) {
            throw ValidationError("--tokens, --text, --image, --max-kld and --min-top1 go with --against, not --integrity")
        }
        if tokens != nil && text != nil { throw ValidationError("give the input as --tokens or --text, not both") }
        if ctx < 2 { throw ValidationError("--ctx must be at least 2 tokens") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try InputPaths.check([model, against, tokens, text, tokenizer, image, imageTensor, visionTower])
        if integrity { return try runIntegrity() }
        let source = try Checkpoint.open(against!)
        var pixels: [Float]?
        if image != nil || imageTensor != nil {
            // The file's own vision configuration says what the image must look like.
            pixels = try ImageInput.pixelValues(image: image, tensor: imageTensor, model: try LanguageModel.load(try Checkpoint.open(model)))
        }
        let verification = Verification(
            threads: threads ?? Interpreter.processorCount, context: ctx,
            budget: checks.budget, measureWeights: !noWeights)
        let ids: [Int32]?  // nil: the built-in input
        if let text {
            let tokenizer = try TokenizerSource.load(model: against!, explicit: self.tokenizer)
            let contents = try RegularFile.readText(text)
            ids = tokenizer.encode(contents).map { Int32($0) }
        } else {
            ids = try tokens.map(TokenInput.read)
        }
        let windows = ProgressBar(label: "verify", unit: .items("windows"))
        let weights = ProgressBar(label: "weights", unit: .items("tensors"))
        var stage = Verification.Stage.comparing
        let report = try verification.run(filePath: model, source: source, tokens: ids, pixels: pixels, visionTower: visionTower) { now, done, total in
            if now != stage {
                windows.finish()
                stage = now
            }
            (now == .comparing ? windows : weights).update(done: done, total: total)
        }
        (stage == .comparing ? windows : weights).finish()
        if let json {
            let text = try JSONOutput.text(report.json)
            if json == "-" { print(text) } else {
                try AtomicText.write(text + "\n", to: json)
                print(report.text)
            }
        } else {
            print(report.text)
        }
        if !report.passed {
            FileHandle.standardError.write(Data("mvlm: \(model): over budget: \(report.violations.joined(separator: "; "))\n".utf8))
            throw ExitCode(3)
        }
    }

    func runIntegrity() throws {
        let reader = try ModelFileReader(path: model)
        let bar = ProgressBar(label: "verify")
        let failures = reader.verifyIntegrity { done, total in bar.update(done: done, total: total) }
        bar.finish()
        let bytes = reader.tensorInfos.reduce(0) { $0 + $1.byteCount }
        if let json {
            let object: [String: MetadataValue] = [
                "file": .string(model), "tensors": .int(Int64(reader.tensorInfos.count)), "bytes": .int(Int64(bytes)),
                "damaged": .array(failures.map { .string($0) }, elementType: "JSON"), "passed": .bool(failures.isEmpty),
            ]
            let text = try JSONOutput.text(object)
            if json == "-" { print(text) } else { try AtomicText.write(text + "\n", to: json) }
        }
        if failures.isEmpty && json != "-" {
            print("\(model): all \(reader.tensorInfos.count) tensors match their checksums (\(ByteCountText.format(bytes)))")
        }
        if !failures.isEmpty {
            throw MVLMError(
                .malformed,
                "\(failures.count) of \(reader.tensorInfos.count) tensors fail their checksum: \(failures.prefix(5).joined(separator: ", "))\(failures.count > 5 ? ", ..." : "")",
                file: model)
        }
    }
}
