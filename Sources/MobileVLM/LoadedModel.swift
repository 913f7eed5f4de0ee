import Foundation
import MVLMCore
import MVLMImage
import MVLMModelFile
import MVLMModels
import MVLMRuntime
import MVLMTokenizer

/// An `.mvlm` file opened and ready to answer: its model (weights as zero-copy views of the
/// mapped file), its embedded tokenizer and chat template, its image preprocessing, and what
/// the file says about how it was made and verified. Immutable and `Sendable`: share one
/// between `ChatSession`s.
///
///     let model = try LoadedModel(contentsOf: "MobileVLM_V2-1.7B.q4_k.mvlm")
///     let session = ChatSession(model)
///     let answer = try await session.respond(to: "What is in the picture?",
///                                            image: try ChatImage(contentsOfFile: "cat.jpg"))
public final class LoadedModel: Sendable {
    /// The file's path.
    public let path: String
    /// The registry name of the architecture (`llama`, `mobilevlm`).
    public var architecture: String { languageModel.architecture }
    /// Whether the model takes an image with its prompt.
    public var supportsImages: Bool { languageModel.multimodal != nil }
    /// The context length (prompt and answer together), in tokens.
    public var contextLength: Int { languageModel.maxPositionEmbeddings }
    /// The size of the vocabulary (the width of the logits).
    public var vocabularySize: Int { languageModel.vocabularySize }
    /// What `mvlm convert --verify` measured when the file was made; nil when it was not verified.
    public let verification: VerificationSummary?
    /// The sampling the model's authors recommend (its `generation_config.json`, recorded in the
    /// file by `mvlm convert`); nil when the file records none. Greedy stays the default of
    /// `GenerationOptions`: pass this as `sampling` to use it.
    public let recommendedSampling: SamplingOptions?

    let languageModel: LanguageModel
    let tokenizer: Tokenizer?
    let chatPrompt: ChatPrompt?
    let preprocessor: ImagePreprocessor?

    /// Opens the `.mvlm` file at `path` and builds its model.
    /// - Parameters:
    ///   - path: an `.mvlm` file (not its zstd distribution form: `mvlm unpack` it first).
    ///   - verifyChecksums: check every tensor's CRC-32 while loading (reads the whole file once;
    ///     docs/reliability.md measures the cost).
    /// - Throws: `MVLMError` naming the file: not an `.mvlm` file, a damaged one, an architecture
    ///   this version cannot run, or an embedded tokenizer or chat template that does not load.
    public init(contentsOf path: String, verifyChecksums: Bool = true) throws {
        do {
            var file = try ModelFileReader(path: path)
            file.verifiesChecksums = verifyChecksums
            let manifest = file.manifest
            let (config, reader) = try LanguageModel.engineView(config: manifest.config, reader: file, path: path)
            languageModel = try LanguageModel.load(config: config, reader: reader)
            self.path = path
            verification = try manifest.verification.map { try VerificationSummary(manifestValue: $0, file: path) }
            recommendedSampling = try manifest.metadata["generation_config"].map { value in
                guard case .object(let fields) = value else {
                    throw MVLMError(.malformed, "is not an object", file: path, subject: "manifest metadata 'generation_config'")
                }
                return try SamplingOptions(generationConfig: fields)
            }
            if let value = manifest.tokenizer {
                let tokenizer = try TokenizerSource(manifestValue: value, file: path).tokenizer()
                self.tokenizer = tokenizer
                let modelType = config["model_type"]?.stringValue
                let hasTemplate = modelType == "mobilevlm" || !(tokenizer.chatTemplate ?? "").isEmpty
                chatPrompt = hasTemplate ? try ChatPrompt(tokenizer: tokenizer, modelType: modelType) : nil
            } else {
                (tokenizer, chatPrompt) = (nil, nil)
            }
            if let vision = languageModel.multimodal?.configuration {
                let settings = vision.preprocessor.isEmpty ? VisionConfiguration.defaultPreprocessor(size: vision.imageSize) : vision.preprocessor
                do {
                    preprocessor = ImagePreprocessor(try ImagePreprocessing(preprocessorConfig: settings, padToSquare: vision.padToSquare))
                } catch let error as MVLMError {
                    throw error.inFile("preprocessor_config")
                }
            } else {
                preprocessor = nil
            }
        } catch let error as MVLMError {
            throw error.inFile(path)
        }
    }

    /// Whether the file carries a chat template (its own, or MobileVLM's built-in conversation
    /// format); without one, a `ChatSession` sends each prompt as it is, with no history.
    public var hasChatTemplate: Bool { chatPrompt != nil }

    /// The token ids of `text` (with the beginning-of-sequence token when the tokenizer adds one).
    /// - Throws: `MVLMError` (`.notFound`) when the file carries no tokenizer.
    public func tokenize(_ text: String) throws -> [Int] {
        try requireTokenizer().encode(text)
    }

    /// The text of `ids` (special tokens left out).
    /// - Throws: `MVLMError` (`.notFound`) when the file carries no tokenizer.
    public func detokenize(_ ids: [Int]) throws -> String {
        try requireTokenizer().decode(ids, skipSpecial: true)
    }

    func requireTokenizer() throws -> Tokenizer {
        guard let tokenizer else {
            throw MVLMError(.notFound, "the file carries no tokenizer (convert it with --tokenizer PATH)", file: path)
        }
        return tokenizer
    }

    /// The `[3, S, S]` pixel values the vision tower takes for `image`.
    func pixelValues(_ image: ChatImage) throws -> [Float] {
        guard let preprocessor else { _ = try languageModel.requireVision(); preconditionFailure("a vision model has a preprocessor") }
        return preprocessor.pixelValues(image.image)
    }
}
