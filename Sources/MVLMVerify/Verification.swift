import MVLMCheckpoint
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMModelLoading

/// `mvlm verify FILE --against SRC` from code: loads the float source and the `.mvlm` file,
/// runs both on the same tokens, measures every weight's reconstruction, and reports.
public struct Verification {
    /// What the verification is doing, for progress display.
    public enum Stage: String, Sendable {
        case comparing = "compare"
        case weights = "weights"
    }

    public var threads: Int
    public var context: Int
    public var budget: VerificationBudget
    /// Whether to measure every tensor's reconstruction SNR (reads the whole file and source once more).
    public var measureWeights: Bool

    public init(threads: Int, context: Int = 512, budget: VerificationBudget = .init(), measureWeights: Bool = true) {
        self.threads = threads
        self.context = context
        self.budget = budget
        self.measureWeights = measureWeights
    }

    /// Verifies the `.mvlm` file at `filePath` against `source`.
    /// - Parameters:
    ///   - tokens: the input; nil for the built-in one (`TokenInput.builtIn`, drawn from the
    ///     loaded model's vocabulary).
    ///   - progress: (stage, done, total) after each window or tensor.
    /// - Throws: `MVLMError` when either side does not load, the two are not the same model, a
    ///   checksum fails, or the tokens do not fit the vocabulary.
    ///   - pixels: a preprocessed image (`[3, S, S]`) for a vision-language model: the encoders
    ///     and the decoders with the image in the prompt are compared too.
    ///   - visionTower: the source's CLIP folder when its tower is not otherwise known (by default
    ///     the tower configuration stored in the file is used for the source too).
    public func run(
        filePath: String, source: Checkpoint, tokens: [Int32]?, pixels: [Float]? = nil, visionTower: String? = nil,
        progress: (Stage, Int, Int) -> Void = { _, _, _ in }
    ) throws -> VerificationReport {
        let file = try Checkpoint.open(filePath)
        guard let reader = file.reader as? ModelFileReader else {
            throw MVLMError(.invalidArgument, "is not an .mvlm file (it is \(file.format.rawValue)); verify checks a converted file against its source", file: filePath)
        }
        let candidate = try LanguageModel.load(file)
        var reference = try LanguageModel.load(source, visionTower: visionTower)
        if reference.multimodal == nil, candidate.multimodal != nil, visionTower == nil,
            case .object = file.config["vision_config"]
        {
            // The file knows its tower; the source is the same model.
            var (config, sourceReader) = try LanguageModel.engineView(source)
            config["vision_config"] = file.config["vision_config"]
            config["preprocessor_config"] = file.config["preprocessor_config"]
            do {
                reference = try LanguageModel.load(config: config, reader: sourceReader)
            } catch let error as MVLMError {
                throw error.inFile(source.path)
            }
        }
        let runner = try VerificationRunner(reference: reference, candidate: candidate, threads: threads, context: context)
        let input = tokens ?? TokenInput.builtIn(vocabularySize: reference.vocabularySize)
        let comparison = try runner.compare(tokens: input) { progress(.comparing, $0, $1) }
        var image: ImageComparison?
        if let pixels {
            let bos = file.config["bos_token_id"]?.intValue.map { Int32($0) }
            image = try runner.compareImage(pixels: pixels, tokens: input, bos: bos)
        }
        let weights = measureWeights
            ? try WeightReconstruction.measure(file: reader, source: source.reader) { progress(.weights, $0, $1) } : []
        let bytes = reader.manifest.tensors.reduce(0) { $0 + $1.bytes }
        let elements = reader.manifest.tensors.reduce(0) { $0 + (Shape.elementCount($1.shape) ?? 0) }
        var report = VerificationReport(
            file: filePath, source: source.path, fileBytes: Int(reader.header.fileSize),
            bitsPerWeight: elements > 0 ? Double(bytes * 8) / Double(elements) : 0, comparison: comparison, weights: weights,
            budget: budget)
        report.image = image
        report.sourceCheck = try SourceCheck.check(manifest: reader.manifest, source: source)
        return report
    }
}
