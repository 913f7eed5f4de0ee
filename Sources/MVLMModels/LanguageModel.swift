import MVLMCore
import MVLMGraph
import MVLMRuntime

/// A causal language model ready to run: its checked graph, its weights as zero-copy views into
/// the checkpoint, and the tensors it leaves out.
public struct LanguageModel: Sendable {
    /// The registry name of the architecture (`llama`, `mobilevlm`).
    public let architecture: String
    /// The checked graph (outputs `hidden`, `logits`, `last_logits`).
    public let graph: Graph
    /// Every tensor the graph reads, by name, in its checkpoint dtype.
    public let weights: [String: Tensor]
    /// Checkpoint tensors the model does not read, in file order, with reasons.
    public let unusedTensors: [UnusedTensor]
    /// Width of the logits.
    public let vocabularySize: Int
    /// The context length the model was trained for (config.json `max_position_embeddings`).
    public let maxPositionEmbeddings: Int
    /// The vision encoder and image-taking decoder of a vision-language model, when built.
    public let multimodal: MultimodalParts?
    /// Why the vision parts of a vision-language checkpoint were not built (nil when they were,
    /// or for a text-only architecture).
    public let visionProblem: String?

    /// Builds the model config.json describes and binds its weights from `reader`.
    /// - Parameters:
    ///   - config: config.json as parsed.
    ///   - reader: the checkpoint's tensors; only the tensors the model uses are opened, and
    ///     their bytes are not read here.
    /// - Throws: `MVLMError` for an unsupported architecture, a bad config field, or a missing or
    ///   mis-shaped tensor (naming the tensor and the expected shape).
    public static func load(config: [String: MetadataValue], reader: some TensorReader) throws -> LanguageModel {
        let builder = try ArchitectureRegistry.builder(for: config)
        var catalog = WeightCatalog(infos: reader.tensorInfos)
        let blueprint = try builder.build(config: config, catalog: &catalog)
        var weights: [String: Tensor] = [:]
        for name in catalog.used {
            let tensor = try reader.tensor(named: name)
            weights[name] = try catalog.views[name].map { try tensor.reshaped($0) } ?? tensor
        }
        return LanguageModel(
            architecture: builder.name, graph: blueprint.graph, weights: weights,
            unusedTensors: catalog.unused(reason: blueprint.unusedReason),
            vocabularySize: blueprint.vocabularySize, maxPositionEmbeddings: blueprint.maxPositionEmbeddings,
            multimodal: blueprint.multimodal, visionProblem: blueprint.visionProblem)
    }

    /// A fresh interpreter (with an empty key/value cache) over this model.
    public func makeInterpreter(threads: Int = Interpreter.processorCount) throws -> Interpreter {
        try Interpreter(graph: graph, weights: weights, threads: threads)
    }

    /// Bytes of weights the graph reads (in their stored dtypes).
    public var weightByteCount: Int { weights.values.reduce(0) { $0 + $1.byteCount } }
}
