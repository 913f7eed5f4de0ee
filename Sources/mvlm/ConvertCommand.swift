import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMConversionJob
import MVLMCore
import MVLMFileIO
import MVLMImage
import MVLMModelFile
import MVLMModels
import MVLMRuntime
import MVLMVerify
import MVLMModelLoading

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a checkpoint into a compact .mvlm model file.",
        discussion: """
            Reads SRC (a file or a checkpoint folder), decides a storage type for every tensor from \
            the preset and the overrides, and streams the result into OUT.mvlm tensor by tensor (peak \
            memory stays bounded whatever the model's size). The file appears only when complete.

            Presets:
            \(QuantizationPreset.summaries.map { "  " + $0 }.joined(separator: "\n"))

            Overrides take a glob over the tensor names as downloaded and a type (\(StorageType.allNames.joined(separator: ", "))); the first \
            matching override wins. A tensor whose row length does not fit its scheme's block takes a \
            fallback that is recorded and printed.

            Passes, in order: drop-unused (tensors the model recomputes, listed), storage (the \
            policy above), fuse-qkv and fuse-gate-up (projections reading the same input become \
            one matrix when their types agree; --no-fuse keeps them apart), layout (row-major \
            blocks used in place). --print-passes shows what each did.

            Targets (--target; the layout is the same rows16 for all but generic, so a file made \
            for one runs at full speed on the others that the runtime has kernels for, and \
            correctly, through portable kernels, anywhere):
            \(DeviceTarget.allCases.map { "  " + $0.summary }.joined(separator: "\n"))

            Calibration: --calibrate FILE runs the float model over a text (tokenized with the \
            source's tokenizer, or --tokenizer PATH) or over token ids (a list, a .txt or .npy of \
            ids), in windows of --ctx, and gathers the mean squared \
            activation of every input column of every linear layer (an importance matrix, as \
            llama-imatrix makes). The quantizers' scale search then weighs each column's error by it; \
            with calibration every preset searches. Use text like the model's real inputs, and \
            verify on other text. --gptq (with --calibrate) gathers each layer input's second \
            moment XᵀX instead and rounds every quantized matrix with GPTQ's error compensation \
            into the same block types (docs/quantization.md).

            Verification (on by default): before the file is published, it is checked against \
            SRC as `mvlm verify --against SRC` does (on --verify-tokens, or the built-in input of 256 \
            pseudo-random ids; with --image or --image-tensor the vision half too), the summary (KL \
            divergence, top-1 agreement, perplexity ratio, worst layer and tensor) is printed and \
            recorded in the file's manifest, where `mvlm inspect` shows it. --max-kld and --min-top1 \
            set a budget: over it, convert exits with status 3 and writes nothing. --no-verify skips \
            the check (the manifest says so); a source whose architecture the engine does not run is \
            converted unverified (the manifest says why), unless --verify demands it. GGUF output is \
            not verified here. The summary makes the file a few hundred bytes larger than the \
            --dry-run prediction.

            Examples:
              mvlm convert ./MobileLLaMA-1.4B -o ml14-q4.mvlm --quant q4_k_m
              mvlm convert ./SmolLM2 -o s-q4.mvlm --quant q4_k_m --calibrate calib.txt --max-kld 0.05
              mvlm convert model.safetensors -o m.mvlm --quant q4_0 --override 'lm_head.weight=Q8_0'
              mvlm convert ./MobileLLaMA-1.4B -o x.mvlm --dry-run        # the plan, nothing written
              mvlm convert ./MobileVLM_V2-1.7B -o phone.mvlm --quant q4_0 --target arm64-dotprod   # Snapdragon 888
            """)

    @Argument(help: "A checkpoint file or folder.")
    var source: String

    @Option(name: [.customShort("o"), .long], help: "The .mvlm file to write.")
    var output: String?

    @Option(help: "Preset: \(QuantizationPreset.Name.allCases.map(\.rawValue).joined(separator: ", ")).")
    var quant: QuantizationPreset.Name = .default

    @Option(name: .customLong("override"), help: "PATTERN=TYPE, repeatable.")
    var overrides: [String] = []

    @Flag(help: "Print the plan (every tensor's type, output size, bits per weight, predicted memory) without writing.")
    var dryRun = false

    @Flag(help: "Print the plan or the result as one JSON object.")
    var json = false

    @Flag(help: "Print the pipeline of passes and what each did, then stop.")
    var printPasses = false

    @Flag(help: "Keep q/k/v and gate/up projections as separate tensors (by default they are fused).")
    var noFuse = false

    @Option(help: ArgumentHelp(
        "Stored layout of quantized matrices: rows16 (groups of 16 rows interleaved for the decode and prefill kernels, read in place from the map; the default) or none (row-major, as GGUF). GGUF output is always row-major.",
        valueName: "LAYOUT"))
    var repack: RepackLayout?

    @Option(help: ArgumentHelp(
        "The CPU the file is laid out for: \(DeviceTarget.allCases.map(\.rawValue).joined(separator: ", ")) (default x86-avx512). Every target but generic writes rows16, which the x86 and ARM kernels all read in place; any file runs on any CPU. See the list under Targets.",
        valueName: "TARGET"))
    var target: DeviceTarget?

    @Option(help: ArgumentHelp("Calibration input: token ids (list, .txt or .npy), or a text file (tokenized with the source's tokenizer).", valueName: "FILE"))
    var calibrate: String?

    @Option(help: ArgumentHelp("The tokenizer to embed in the file and to read a text --calibrate file with: a folder, tokenizer.model, tokenizer.json or a .gguf (default: the source's own).", valueName: "PATH"))
    var tokenizer: String?

    @OptionGroup var template: ChatTemplateOptions

    @Flag(help: "With --calibrate: GPTQ error-compensating rounding (same block types; needs memory for every layer input's XᵀX).")
    var gptq = false

    @Flag(help: "Require verification (fail when the source cannot be verified); it runs by default whenever it can.")
    var verify = false

    @Flag(help: "Skip verifying the written file against the source (the manifest records that it was skipped).")
    var noVerify = false

    @Option(help: ArgumentHelp("Token ids to verify on (default: 256 built-in pseudo-random ids).", valueName: "IDS"))
    var verifyTokens: String?

    @OptionGroup var checks: VerificationOptions
    var image: String? { checks.image }
    var imageTensor: String? { checks.imageTensor }
    var maxKld: Double? { checks.maxKld }
    var minTop1: Double? { checks.minTop1 }


    @Option(help: ArgumentHelp("The CLIP folder (config.json, optional preprocessor_config.json) that configures a MobileVLM checkpoint's vision tower, when its mm_vision_tower is neither a folder nor a known tower; stored in the output.", valueName: "DIR"))
    var visionTower: String?

    @Option(parsing: .unconditional, help: "Window length in tokens for --calibrate and --verify.")
    var ctx: Int = 512

    @Option(parsing: .unconditional, help: "Threads for --calibrate and --verify (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp("Output format: mvlm, or gguf for llama.cpp (default: from the output's extension).", valueName: "FORMAT"))
    var format: OutputFormat?

    @Option(help: ArgumentHelp("With --format gguf: where a MobileVLM's vision-projector GGUF goes (default: OUT.mmproj.gguf).", valueName: "PATH"))
    var mmproj: String?

    func validate() throws {
        if !dryRun && !printPasses && output == nil {
            throw ValidationError("give the output file with -o OUT.mvlm (or use --dry-run)")
        }
        if gptq && calibrate == nil { throw ValidationError("--gptq needs --calibrate FILE") }
        if verify && noVerify { throw ValidationError("--verify and --no-verify contradict each other; give one") }
        if noVerify && (verifyTokens != nil || image != nil || imageTensor != nil || maxKld != nil || minTop1 != nil) {
            throw ValidationError("--verify-tokens, --image, --image-tensor, --max-kld and --min-top1 need verification; drop --no-verify")
        }
        if ctx < 2 { throw ValidationError("--ctx must be at least 2 tokens") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let target, let repack, (repack == .none) != (target == .generic) {
            throw ValidationError("--repack \(repack.rawValue) contradicts --target \(target.rawValue): --repack none is --target generic; give one of them")
        }
        try validateGGUFOptions()
    }

    /// The job's options from the flags.
    func options() throws -> ConversionOptions {
        var options = ConversionOptions(source: source, output: output, threads: threads ?? Interpreter.processorCount)
        options.format = outputFormat
        options.preset = quant
        options.overrides = try overrides.map { try TensorOverride(parsing: $0) }
        options.fuse = !noFuse
        options.target = deviceTarget
        options.calibration = calibrate
        options.gptq = gptq
        options.tokenizer = tokenizer
        if template.chatTemplate != nil {
            let template = self.template
            options.chatTemplate = { tokenizer in try template.overrideText(tokenizer: tokenizer)! }
        }
        options.verification = noVerify ? .off : verify ? .required : .automatic
        options.verifyTokens = verifyTokens
        options.verifyImage = image
        options.verifyImageTensor = imageTensor
        options.budget = checks.budget
        options.visionTower = visionTower
        options.context = ctx
        options.projectorPath = mmproj
        return options
    }

    func run() throws {
        try InputPaths.check([source, calibrate, tokenizer, verifyTokens, image, imageTensor, visionTower])
        let job = ConversionJob(options: try options())
        if printPasses {
            for (index, pass) in try job.plan().passes.enumerated() { print("\(index + 1). \(pass)") }
            return
        }
        if dryRun { return try printDryRun(try job.dryRun()) }
        let bars = ProgressBars()
        let result: ConversionResult
        do {
            result = try job.run { stage, done, total in bars.update(stage, done: done, total: total) }
            bars.finish()
        } catch let error as ConversionBudgetError {
            bars.finish()
            printVerification(error.report)
            FileHandle.standardError.write(Data("mvlm: \(error.description)\n".utf8))
            throw ExitCode(3)
        }
        if json { return print(try JSONOutput.text(summary(result))) }
        let seconds = String(format: "%.1f", result.seconds)
        if outputFormat == .gguf {
            for file in result.files {
                print("wrote \(file.path): GGUF, \(file.tensors) tensors, \(file.metadataKeys ?? 0) metadata keys, \(ByteCountText.format(file.bytes)), preset \(quant.rawValue), in \(seconds) s")
            }
            return
        }
        let file = result.files[0]
        print("wrote \(file.path): \(file.tensors) tensors, \(ByteCountText.format(file.bytes)), \(String(format: "%.2f", result.plan.bitsPerWeight)) bits per weight, preset \(quant.rawValue), in \(seconds) s")
        let fallbacks = result.plan.decisions.filter { $0.fallback != nil }
        if !fallbacks.isEmpty { print("\(fallbacks.count) tensors took a fallback type (see --dry-run)") }
        if let report = result.verification {
            printVerification(report)
        } else if let skipped = result.verificationSkipped {
            print("not verified: \(skipped)")
        }
    }

    /// The one-line summaries of a verification.
    func printVerification(_ report: VerificationReport) {
        let c = report.comparison
        if let image = report.image {
            print("image: vision features cosine \(String(format: "%.6f", image.visionFeatureCosine)), projector rows cosine \(String(format: "%.6f", image.imageFeatureCosine)), KL divergence after the image \(String(format: "%.4g", image.kld.mean))")
        }
        print("verified against \(source): KL divergence mean \(String(format: "%.4g", c.kld.mean)), p99 \(String(format: "%.4g", c.kld.p99)); top-1 agreement \(String(format: "%.2f", c.top1Agreement * 100))%; perplexity ratio \(String(format: "%.4f", c.perplexityRatio))\(report.worstLayer.map { "; lowest block SNR \($0.name) \(String(format: "%.1f", $0.decibels ?? 0)) dB" } ?? "")")
    }

    /// `--json`: the result as one object.
    func summary(_ result: ConversionResult) -> [String: MetadataValue] {
        if outputFormat == .gguf {
            let records: [MetadataValue] = result.files.map { file in
                .object([
                    "output": .string(file.path), "bytes": .int(Int64(file.bytes)), "tensors": .int(Int64(file.tensors)),
                    "metadata_keys": .int(Int64(file.metadataKeys ?? 0)),
                ])
            }
            return [
                "format": .string("gguf"), "files": .array(records, elementType: "JSON"), "preset": .string(quant.rawValue),
                "seconds": .float(result.seconds), "calibrated": .bool(result.calibrated),
            ]
        }
        let file = result.files[0]
        var summary: [String: MetadataValue] = [
            "output": .string(file.path), "bytes": .int(Int64(file.bytes)), "predicted_bytes": .int(Int64(result.predictedBytes ?? 0)),
            "tensors": .int(Int64(file.tensors)), "bits_per_weight": .float(result.plan.bitsPerWeight),
            "seconds": .float(result.seconds), "preset": .string(quant.rawValue), "target": .string(result.plan.target.rawValue),
            "calibrated": .bool(result.calibrated), "verification_seconds": .float(result.verificationSeconds),
        ]
        if let report = result.verification { summary["verification"] = report.manifestSummary(input: "") }
        if let skipped = result.verificationSkipped { summary["verification"] = .object(["skipped": .string(skipped)]) }
        return summary
    }

    func printDryRun(_ dryRun: ConversionDryRun) throws {
        try printPlan(dryRun.plan, predictedSize: dryRun.predictedBytes)
        guard !json else { return }
        for part in dryRun.ggufParts {
            print("  GGUF \(part.label) \(part.path ?? ""): \(part.tensors) tensors, \(part.metadataKeys) metadata keys, \(part.bytes) bytes")
            for dropped in part.dropped { print("    left out \(dropped.name): \(dropped.reason)") }
        }
    }

    func printPlan(_ plan: ConversionPlan, predictedSize: Int) throws {
        if json {
            var object = try JSONDecoder().decode([String: MetadataValue].self, from: JSONEncoder().encode(plan))
            object["predicted_file_bytes"] = .int(Int64(predictedSize))
            object["kernel_paths"] = KernelPathReport(plan: plan, target: plan.target).metadata
            print(try JSONOutput.text(object))
            return
        }
        var counts: [String: (tensors: Int, bytes: Int)] = [:]
        let width = Terminal.columns
        for decision in plan.decisions {
            counts[decision.outputDType.name, default: (0, 0)].tensors += 1
            counts[decision.outputDType.name]!.bytes += decision.bytes
            let layout = decision.storedLayout == .rows16 ? " (rows16)" : ""
            var line = "  \(decision.name)  \(decision.sourceDType) -> \(decision.outputDType)\(layout)  \(ByteCountText.format(decision.bytes))  [\(decision.reason)]"
            if let fallback = decision.fallback { line += "  FALLBACK: \(fallback)" }
            if let width, line.count > width { line = String(line.prefix(width - 1)) + "…" }
            print(line)
        }
        for dropped in plan.dropped { print("  \(dropped.name)  dropped: \(dropped.reason)") }
        print("")
        print("  preset \(plan.preset.rawValue)\(plan.overrides.isEmpty ? "" : ", overrides: " + plan.overrides.joined(separator: " "))")
        for (dtype, count) in counts.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            print("  \(dtype.padding(toLength: 12, withPad: " ", startingAt: 0)) \(count.tensors) tensors, \(ByteCountText.format(count.bytes))")
        }
        print("  output file      \(ByteCountText.format(predictedSize)) (\(predictedSize) bytes), \(String(format: "%.3f", plan.bitsPerWeight)) bits per weight")
        print("  working memory   \(ByteCountText.format(plan.predictedWorkingMemory)) beyond the process baseline (about 30 MiB)")
        let fallbacks = plan.decisions.filter { $0.fallback != nil }.count
        if fallbacks > 0 { print("  fallbacks        \(fallbacks) tensors (marked FALLBACK above)") }
        for line in KernelPathReport(plan: plan, target: plan.target).lines(label: "kernels on \(plan.target.rawValue)") { print(line) }
    }
}

/// `convert --repack`.
enum RepackLayout: String, ExpressibleByArgument, CaseIterable {
    case rows16, none
}

extension DeviceTarget: ExpressibleByArgument {}

extension QuantizationPreset.Name: ExpressibleByArgument {}

extension ConversionOptions.OutputFormat: ExpressibleByArgument {}

extension ConvertCommand {
    /// `--target`, or what `--repack` implies (rows16: the default target; none: generic).
    var deviceTarget: DeviceTarget { target ?? (repack == RepackLayout.none ? .generic : .x86AVX512) }
}
