import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMFileIO
import MVLMImage
import MVLMModelFile
import MVLMModelLoading
import MVLMModels
import MVLMTokenizer
import MVLMVerify

/// `mvlm convert` as a library: plans the conversion (the engine's view of the checkpoint, the
/// passes), calibrates, streams the tensors into an `.mvlm` file (with the tokenizer and the image
/// preprocessing recorded) or GGUF files, and verifies the written file against its source before
/// it is published (by default; `ConversionOptions.verification`). The CLI parses flags into
/// `ConversionOptions`, calls this and prints the result.
public struct ConversionJob: Sendable {
    public var options: ConversionOptions

    public init(options: ConversionOptions) {
        self.options = options
    }

    /// The checkpoint opened, its engine configuration and the plan.
    struct Prepared {
        var checkpoint: Checkpoint
        var engineConfig: [String: MetadataValue]
        /// Whether the engine builds the model (so it can be verified).
        var engineRuns: Bool
        var plan: ConversionPlan
    }

    /// The plan the job follows: every decision, and what each pass did (`--print-passes`).
    public func plan() throws -> ConversionPlan { try prepare().plan }

    func prepare() throws -> Prepared {
        let checkpoint = try Checkpoint.open(options.source)
        // The config the engine builds from: a GGUF's metadata as config (GGUFLlama), and a
        // vision-language model's tower configuration resolved (required: the file must run alone).
        let engine = try Self.engineConfig(checkpoint, visionTower: options.visionTower)
        let mvlm = options.format == .mvlm
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(options.preset), overrides: options.overrides,
            fuse: options.fuse && mvlm, target: mvlm ? options.target : .generic, unused: engine.unused)
        return Prepared(checkpoint: checkpoint, engineConfig: engine.config, engineRuns: engine.runs, plan: plan)
    }

    /// The plan and the predicted output size, writing nothing (`convert --dry-run`).
    public func dryRun() throws -> ConversionDryRun {
        let prepared = try prepare()
        let converter = ModelConverter(checkpoint: prepared.checkpoint, plan: prepared.plan)
        if options.format == .gguf { return try ggufDryRun(converter: converter, engineConfig: prepared.engineConfig) }
        let predicted = try converter.predictedFileSize(manifest: try baseManifest(prepared))
        return ConversionDryRun(plan: prepared.plan, predictedBytes: predicted, ggufParts: [])
    }

    /// Converts, verifies (unless off) and publishes.
    /// - Parameter progress: (stage, done, total) as each stage advances: windows while
    ///   calibrating and verifying, bytes while converting.
    /// - Throws: `ConversionBudgetError` when the written file is over the verification budget
    ///   (nothing is published); `MVLMError` for anything else.
    public func run(progress: @escaping (ConversionStage, Int, Int) -> Void = { _, _, _ in }) throws -> ConversionResult {
        guard let output = options.output else {
            throw MVLMError(.invalidArgument, "no output file given", subject: "conversion")
        }
        let prepared = try prepare()
        var converter = ModelConverter(checkpoint: prepared.checkpoint, plan: prepared.plan)
        if let calibration = options.calibration {
            let ids = try Self.calibrationIDs(calibration, source: options.source, tokenizer: options.tokenizer)
            let model = try LanguageModel.load(prepared.checkpoint)
            if options.gptq {
                try Self.calibrateGPTQ(
                    &converter, model: model, ids: ids, context: options.context, threads: options.threads, input: calibration
                ) { progress(.calibrating, $0, $1) }
            } else {
            let collector = try ImportanceCollector.collect(
                model: model, tokens: ids, context: options.context, threads: options.threads
            ) { progress(.calibrating, $0, $1) }
            converter.importance = collector.importance
            converter.calibration = .object([
                "input": .string((calibration as NSString).lastPathComponent), "tokens": .int(Int64(ids.count)),
                "context": .int(Int64(options.context)), "layers": .int(Int64(collector.importance.count)),
            ])
            }
        }
        if options.format == .gguf {
            return try writeGGUF(converter: converter, engineConfig: prepared.engineConfig, output: output, progress: progress)
        }
        let base = try baseManifest(prepared)
        let predicted = try ModelConverter(checkpoint: prepared.checkpoint, plan: prepared.plan).predictedFileSize(manifest: base)
        let start = Date()
        var report: VerificationReport?
        var verificationSeconds = 0.0
        let skipped = skippedVerification(prepared)
        var review: ((String, ModelManifest) throws -> ModelManifest?)?
        if skipped == nil {
            review = { temporary, manifest in
                let begin = Date()
                defer { verificationSeconds = Date().timeIntervalSince(begin) }
                let result = try verify(temporary, source: prepared.checkpoint, progress: progress)
                report = result
                guard result.passed else {
                    throw ConversionBudgetError(report: result, output: output)
                }
                var manifest = manifest
                manifest.verification = result.manifestSummary(input: verificationInputDescription())
                return manifest
            }
        }
        let written = try converter.convert(
            to: output, manifest: base, progress: { progress(.converting, $0, $1) }, review: review)
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber)?.intValue ?? 0
        return ConversionResult(
            plan: prepared.plan, files: [.init(path: output, bytes: size, tensors: written.tensors.count, metadataKeys: nil)],
            predictedBytes: predicted, seconds: Date().timeIntervalSince(start), calibrated: !converter.importance.isEmpty,
            verification: report, verificationSkipped: skipped, verificationSeconds: verificationSeconds)
    }

    /// Verifies the complete file at `path` (under its temporary name) against `source`.
    func verify(
        _ path: String, source: Checkpoint, progress: (ConversionStage, Int, Int) -> Void
    ) throws -> VerificationReport {
        let ids = try options.verifyTokens.map(TokenInput.read)
        var pixels: [Float]?
        if options.verifyImage != nil || options.verifyImageTensor != nil {
            pixels = try ImageInput.pixelValues(
                image: options.verifyImage, tensor: options.verifyImageTensor, model: try LanguageModel.load(try Checkpoint.open(path)))
        }
        let verification = Verification(threads: options.threads, context: options.context, budget: options.budget)
        return try verification.run(filePath: path, source: source, tokens: ids, pixels: pixels, visionTower: options.visionTower) {
            stage, done, total in
            if stage == .comparing { progress(.verifying, done, total) }
        }
    }

    /// Why the written file will not be verified (`--no-verify`; an architecture the engine does
    /// not run, unless verification is required); nil when it will be. The manifest records the
    /// reason as `"verification": {"skipped": REASON}`, known before writing (so `dryRun`
    /// predicts the file's size exactly).
    func skippedVerification(_ prepared: Prepared) -> String? {
        switch options.verification {
        case .off: "--no-verify"
        case .automatic where !prepared.engineRuns:
            "the engine does not run this architecture (\(prepared.checkpoint.architecture.kind.rawValue))"
        case .automatic, .required: nil
        }
    }

    /// The verification input as the manifest records it.
    func verificationInputDescription() -> String {
        guard let tokens = options.verifyTokens else {
            return "built-in: \(TokenInput.builtInCount) pseudo-random ids (SplitMix64, seed 0)"
        }
        let count = (try? TokenInput.read(tokens).count) ?? 0
        return "\((tokens as NSString).lastPathComponent) (\(count) ids)"
    }

    /// The manifest before the converter completes it: architecture, config, producer, the image
    /// preprocessing of a vision-language model and the tokenizer.
    func baseManifest(_ prepared: Prepared) throws -> ModelManifest {
        let engineConfig = prepared.engineConfig
        var base = ModelManifest(
            architecture: prepared.checkpoint.architecture.kind.rawValue, config: engineConfig,
            metadata: ["producer": .string("mvlm")])
        // A vision-language model's image preprocessing, as the reference runs it (also inside
        // `config.preprocessor_config`, which the engine reads).
        if case .object(let preprocessor) = engineConfig["preprocessor_config"] {
            let parameters = try ImagePreprocessing(
                preprocessorConfig: preprocessor, padToSquare: engineConfig["image_aspect_ratio"]?.stringValue == "pad")
            let pad = parameters.padColor
            base.imagePreprocessing = .object([
                "size": .int(Int64(parameters.size)),
                "crop": .array([.int(Int64(parameters.cropHeight)), .int(Int64(parameters.cropWidth))], elementType: "JSON"),
                "resample": .string("\(parameters.resample) (Pillow)"),
                "pad_to_square": .bool(parameters.padToSquare),
                "pad_color": .array([.int(Int64(pad.red)), .int(Int64(pad.green)), .int(Int64(pad.blue))], elementType: "JSON"),
                "rescale_factor": .float(parameters.rescaleFactor),
                "image_mean": .array(parameters.imageMean.map { .float(Double($0)) }, elementType: "JSON"),
                "image_std": .array(parameters.imageStd.map { .float(Double($0)) }, elementType: "JSON"),
                "preprocessor_config": .object(preprocessor),
            ])
        }
        if let reason = skippedVerification(prepared) { base.verification = .object(["skipped": .string(reason)]) }
        // The tokenizer travels inside the file (from --tokenizer, or the source's own).
        if let found = try tokenizerSource() {
            _ = try found.tokenizer()  // never embed a tokenizer that does not load
            base.tokenizer = found.manifestValue
        }
        // The model's own sampling defaults travel too (`run --sampling model`, the library's
        // `recommendedSampling`); greedy stays the default.
        if let generation = try prepared.checkpoint.generationConfig() { base.metadata["generation_config"] = .object(generation) }
        return base
    }

    /// The tokenizer to embed (`options.tokenizer` or the source's own), with the chat template
    /// replaced when `options.chatTemplate` says so.
    func tokenizerSource() throws -> TokenizerSource? {
        let found = try TokenizerSource.find(model: options.source, explicit: options.tokenizer)
        guard let chatTemplate = options.chatTemplate else { return found }
        guard let found else {
            throw MVLMError(
                .notFound, "the source has no tokenizer to carry the template; pass --tokenizer PATH", file: options.source,
                subject: "--chat-template")
        }
        return found.replacingChatTemplate(with: try chatTemplate(try found.tokenizer()))
    }

    /// The config to store (GGUF metadata as config; the vision tower resolved), the tensors the
    /// model does not read with reasons (dropped from the output), and whether the engine builds
    /// the model at all.
    static func engineConfig(
        _ checkpoint: Checkpoint, visionTower: String?
    ) throws -> (config: [String: MetadataValue], unused: [String: String], runs: Bool) {
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
        else { return (config, [:], false) }
        if hasTower, model.multimodal == nil, let problem = model.visionProblem {
            // Never drop a tower silently: the file would lose its vision half.
            throw MVLMError(.malformed, "the vision tower cannot be built: \(problem)", file: checkpoint.path)
        }
        let names = Set(checkpoint.reader.tensorInfos.map(\.name))
        var unused: [String: String] = [:]
        for tensor in model.unusedTensors where names.contains(tensor.name) { unused[tensor.name] = tensor.reason }
        return (config, unused, true)
    }

    /// Token ids from `argument`: ids as `TokenInput` reads them, or else a text file tokenized
    /// with the source's tokenizer.
    public static func calibrationIDs(_ argument: String, source: String, tokenizer: String?) throws -> [Int32] {
        if let ids = try? TokenInput.read(argument) { return ids }
        guard FileManager.default.fileExists(atPath: argument) else { return try TokenInput.read(argument) }
        let text = try RegularFile.readText(argument)
        let ids = try TokenizerSource.load(model: source, explicit: tokenizer).encode(text).map { Int32($0) }
        guard ids.count >= 2 else { throw MVLMError(.invalidArgument, "the calibration text gives \(ids.count) tokens", file: argument) }
        return ids
    }
}
