import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMFileIO
import MVLMImage
import MVLMModelFile
import MVLMModels
import MVLMRuntime
import MVLMVerify

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

            Verification: --verify runs `mvlm verify --against SRC` on the written file before it \
            is published (on --verify-tokens, or the built-in input of 256 pseudo-random ids) and \
            records the summary (KL divergence, top-1 agreement, perplexity ratio, worst layer and \
            tensor) in the file's manifest, where `mvlm inspect` shows it. The summary makes the \
            file a few hundred bytes larger than the --dry-run prediction.

            Examples:
              mvlm convert ./MobileLLaMA-1.4B -o ml14-q4.mvlm --quant q4_k_m
              mvlm convert ./SmolLM2 -o s-q4.mvlm --quant q4_k_m --calibrate calib_ids.txt --verify
              mvlm convert model.safetensors -o m.mvlm --quant q4_0 --override 'lm_head.weight=Q8_0'
              mvlm convert ./MobileLLaMA-1.4B -o x.mvlm --dry-run        # the plan, nothing written
              mvlm convert ./MobileVLM_V2-1.7B -o phone.mvlm --quant q4_0 --target arm64-dotprod   # Snapdragon 888
            """)

    @Argument(help: "A checkpoint file or folder.")
    var source: String

    @Option(name: [.customShort("o"), .long], help: "The .mvlm file to write.")
    var output: String?

    @Option(help: "Preset: f16, q8_0, q4_0, q4_k_m or default.")
    var quant: String = "default"

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

    @Flag(help: "Verify the written file against the source and record the summary in its manifest.")
    var verify = false

    @Option(help: ArgumentHelp("Token ids for --verify (default: 256 built-in pseudo-random ids).", valueName: "IDS"))
    var verifyTokens: String?

    @Option(help: ArgumentHelp("With --verify: an image (PNG or JPEG) to compare the vision half on as well.", valueName: "FILE"))
    var image: String?

    @Option(help: ArgumentHelp("With --verify: a preprocessed float32 [3, S, S] .npy image instead of --image.", valueName: "FILE.npy"))
    var imageTensor: String?

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
        guard QuantizationPreset.Name(rawValue: quant) != nil else {
            throw ValidationError("unknown preset '\(quant)'; choose one of \(QuantizationPreset.Name.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !dryRun && !printPasses && output == nil {
            throw ValidationError("give the output file with -o OUT.mvlm (or use --dry-run)")
        }
        if gptq && calibrate == nil { throw ValidationError("--gptq needs --calibrate FILE") }
        if verifyTokens != nil && !verify { throw ValidationError("--verify-tokens goes with --verify") }
        if (image != nil || imageTensor != nil) && !verify { throw ValidationError("--image and --image-tensor go with --verify") }
        if image != nil && imageTensor != nil { throw ValidationError("give the image as --image or --image-tensor, not both") }
        if ctx < 2 { throw ValidationError("--ctx must be at least 2 tokens") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let target, let repack, (repack == .none) != (target == .generic) {
            throw ValidationError("--repack \(repack.rawValue) contradicts --target \(target.rawValue): --repack none is --target generic; give one of them")
        }
        try validateGGUFOptions()
    }

    func run() throws {
        try InputPaths.check([source, calibrate, tokenizer, verifyTokens, image, imageTensor, visionTower])
        let checkpoint = try Checkpoint.open(source)
        let parsed = try overrides.map { try TensorOverride(parsing: $0) }
        // The config the engine builds from: a GGUF's metadata as config (GGUFLlama), and a
        // vision-language model's tower configuration resolved (required: the file must run alone).
        let (engineConfig, unused) = try Self.engineConfig(checkpoint, visionTower: visionTower)
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(QuantizationPreset.Name(rawValue: quant)!), overrides: parsed,
            fuse: !noFuse && outputFormat == .mvlm, target: outputFormat == .mvlm ? deviceTarget : .generic, unused: unused)
        if printPasses {
            for (index, pass) in plan.passes.enumerated() { print("\(index + 1). \(pass)") }
            return
        }
        var converter = ModelConverter(checkpoint: checkpoint, plan: plan)
        let threads = self.threads ?? Interpreter.processorCount
        if let calibrate, !dryRun {
            let ids = try Self.calibrationIDs(calibrate, source: source, tokenizer: tokenizer)
            let model = try LanguageModel.load(checkpoint)
            if gptq {
                try Self.calibrateGPTQ(&converter, model: model, ids: ids, ctx: ctx, threads: threads, input: calibrate)
            } else {
                let bar = ProgressBar(label: "calibrate", unit: .items("windows"))
                let collector = try ImportanceCollector.collect(model: model, tokens: ids, context: ctx, threads: threads) {
                    bar.update(done: $0, total: $1)
                }
                bar.finish()
                converter.importance = collector.importance
                converter.calibration = .object([
                    "input": .string((calibrate as NSString).lastPathComponent), "tokens": .int(Int64(ids.count)),
                    "context": .int(Int64(ctx)), "layers": .int(Int64(collector.importance.count)),
                ])
            }
        }
        if outputFormat == .gguf { return try convertToGGUF(converter: converter, engineConfig: engineConfig) }
        var base = ModelManifest(
            architecture: checkpoint.architecture.kind.rawValue, config: engineConfig,
            metadata: ["producer": .string("mvlm")])
        // A vision-language model's image preprocessing, as the reference runs it (also inside
        // `config.preprocessor_config`, which the engine reads).
        if case .object(let preprocessor) = engineConfig["preprocessor_config"] {
            let parameters = try ImagePreprocessing(
                preprocessorConfig: preprocessor, padToSquare: engineConfig["image_aspect_ratio"]?.stringValue == "pad")
            let pad = parameters.padColor
            base.imagePreprocessing = .object([
                "size": .int(Int64(parameters.size)), "crop": .array([.int(Int64(parameters.cropHeight)), .int(Int64(parameters.cropWidth))], elementType: "JSON"),
                "resample": .string("\(parameters.resample) (Pillow)"),
                "pad_to_square": .bool(parameters.padToSquare),
                "pad_color": .array([.int(Int64(pad.red)), .int(Int64(pad.green)), .int(Int64(pad.blue))], elementType: "JSON"),
                "rescale_factor": .float(parameters.rescaleFactor),
                "image_mean": .array(parameters.imageMean.map { .float(Double($0)) }, elementType: "JSON"),
                "image_std": .array(parameters.imageStd.map { .float(Double($0)) }, elementType: "JSON"),
                "preprocessor_config": .object(preprocessor),
            ])
        }
        // The tokenizer travels inside the file (from --tokenizer, or the source's own).
        if let found = try tokenizerSource() {
            _ = try found.tokenizer()  // never embed a tokenizer that does not load
            base.tokenizer = found.manifestValue
        }
        let predicted = try converter.predictedFileSize(manifest: base)
        if dryRun {
            try printPlan(plan, predictedSize: predicted)
            return
        }
        let bar = ProgressBar(label: "convert")
        let start = Date()
        var report: VerificationReport?
        let review: ((String, ModelManifest) throws -> ModelManifest?)?
        if verify {
            let ids = try verifyTokens.map(TokenInput.read)
            let input = verifyTokens.map { "\(($0 as NSString).lastPathComponent) (\(ids!.count) ids)" }
                ?? "built-in: \(TokenInput.builtInCount) pseudo-random ids (SplitMix64, seed 0)"
            review = { temporary, manifest in
                bar.finish()
                let windows = ProgressBar(label: "verify", unit: .items("windows"))
                var pixels: [Float]?
                if image != nil || imageTensor != nil {
                    pixels = try ImageInput.pixelValues(
                        image: image, tensor: imageTensor, model: try LanguageModel.load(try Checkpoint.open(temporary)))
                }
                let result = try Verification(threads: threads, context: ctx).run(
                    filePath: temporary, source: checkpoint, tokens: ids, pixels: pixels, visionTower: visionTower
                ) { stage, done, total in
                    if stage == .comparing { windows.update(done: done, total: total) }
                }
                windows.finish()
                var manifest = manifest
                manifest.verification = result.manifestSummary(input: input)
                report = result
                return manifest
            }
        } else {
            review = nil
        }
        let written = try converter.convert(to: output!, manifest: base, progress: { done, total in bar.update(done: done, total: total) }, review: review)
        if !verify { bar.finish() }
        let seconds = Date().timeIntervalSince(start)
        let size = (try? FileManager.default.attributesOfItem(atPath: output!)[.size] as? NSNumber)?.intValue ?? 0
        if json {
            var summary: [String: MetadataValue] = [
                "output": .string(output!), "bytes": .int(Int64(size)), "predicted_bytes": .int(Int64(predicted)),
                "tensors": .int(Int64(written.tensors.count)), "bits_per_weight": .float(plan.bitsPerWeight),
                "seconds": .float(seconds), "preset": .string(quant), "target": .string(plan.target.rawValue),
                "calibrated": .bool(!converter.importance.isEmpty),
            ]
            if let report { summary["verification"] = report.manifestSummary(input: "") }
            print(try Self.jsonText(summary))
        } else {
            print("wrote \(output!): \(written.tensors.count) tensors, \(ByteCountText.format(size)), \(String(format: "%.2f", plan.bitsPerWeight)) bits per weight, preset \(quant), in \(String(format: "%.1f", seconds)) s")
            let fallbacks = plan.decisions.filter { $0.fallback != nil }
            if !fallbacks.isEmpty { print("\(fallbacks.count) tensors took a fallback type (see --dry-run)") }
            if let report {
                let c = report.comparison
                if let image = report.image {
                    print("image: vision features cosine \(String(format: "%.6f", image.visionFeatureCosine)), projector rows cosine \(String(format: "%.6f", image.imageFeatureCosine)), KL divergence after the image \(String(format: "%.4g", image.kld.mean))")
                }
                print("verified against \(source): KL divergence mean \(String(format: "%.4g", c.kld.mean)), p99 \(String(format: "%.4g", c.kld.p99)); top-1 agreement \(String(format: "%.2f", c.top1Agreement * 100))%; perplexity ratio \(String(format: "%.4f", c.perplexityRatio))\(report.worstLayer.map { "; lowest block SNR \($0.name) \(String(format: "%.1f", $0.decibels ?? 0)) dB" } ?? "")")
            }
        }
    }

    /// The config to store (GGUF metadata as config; the vision tower resolved) and the tensors
    /// the model does not read, with reasons (dropped from the output).
    static func engineConfig(_ checkpoint: Checkpoint, visionTower: String?) throws -> ([String: MetadataValue], [String: String]) {
        let view = try? LanguageModel.engineView(checkpoint)
        var config = view?.0 ?? checkpoint.config
        let hasTower = checkpoint.reader.tensorInfos.contains { $0.name.hasPrefix("model.vision_tower.") }
        if visionTower != nil || (hasTower && VisionTowerResolver.wantsVision(config)) {
            let resolution = try VisionTowerResolver.resolve(
                config: config, checkpointDirectory: checkpoint.directory, visionTower: visionTower, required: true)
            config = resolution.config
            if let source = resolution.source { FileHandle.standardError.write(Data("vision tower: \(source)\n".utf8)) }
        }
        // Which tensors the model leaves out; when the engine cannot build the model (an
        // architecture it does not run) everything is converted.
        guard let reader = view?.1,
            let model = try? LanguageModel.load(config: config, reader: reader)
        else { return (config, [:]) }
        if hasTower, model.multimodal == nil, let problem = model.visionProblem {
            // Never drop a tower silently: the file would lose its vision half.
            throw MVLMError(.malformed, "the vision tower cannot be built: \(problem)", file: checkpoint.path)
        }
        let names = Set(checkpoint.reader.tensorInfos.map(\.name))
        var unused: [String: String] = [:]
        for tensor in model.unusedTensors where names.contains(tensor.name) { unused[tensor.name] = tensor.reason }
        return (config, unused)
    }

    /// Token ids from `argument`: ids as `TokenInput` reads them, or else a text file tokenized
    /// with the source's tokenizer.
    static func calibrationIDs(_ argument: String, source: String, tokenizer: String?) throws -> [Int32] {
        if let ids = try? TokenInput.read(argument) { return ids }
        guard FileManager.default.fileExists(atPath: argument) else { return try TokenInput.read(argument) }
        let text = try RegularFile.readText(argument)
        let ids = try TokenizerSource.load(model: source, explicit: tokenizer).encode(text).map { Int32($0) }
        guard ids.count >= 2 else { throw MVLMError(.invalidArgument, "the calibration text gives \(ids.count) tokens", file: argument) }
        return ids
    }

    func printPlan(_ plan: ConversionPlan, predictedSize: Int) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var object = try JSONSerialization.jsonObject(with: encoder.encode(plan)) as! [String: Any]
            object["predicted_file_bytes"] = predictedSize
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var counts: [String: (tensors: Int, bytes: Int)] = [:]
        let width = Terminal.columns
        for decision in plan.decisions {
            counts[decision.outputDType, default: (0, 0)].tensors += 1
            counts[decision.outputDType]!.bytes += decision.bytes
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
    }

    static func jsonText(_ object: [String: MetadataValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }
}

/// `convert --repack`.
enum RepackLayout: String, ExpressibleByArgument, CaseIterable {
    case rows16, none
}

extension DeviceTarget: ExpressibleByArgument {}

extension ConvertCommand {
    /// `--target`, or what `--repack` implies (rows16: the default target; none: generic).
    var deviceTarget: DeviceTarget { target ?? (repack == RepackLayout.none ? .generic : .x86AVX512) }
}
