import MVLMCore
import MVLMGraph

/// Builds the graph of one architecture from config.json and the checkpoint's tensor table.
///
/// One conforming type per architecture, each in its own file, listed in `ArchitectureRegistry`.
public protocol ArchitectureBuilder: Sendable {
    /// The registry name (`llama`, `mobilevlm`).
    var name: String { get }
    /// config.json `model_type` values this builder accepts.
    var modelTypes: [String] { get }
    /// config.json `architectures` entries this builder accepts.
    var architectures: [String] { get }
    /// Declares every weight through `catalog` and returns the graph with outputs `hidden`
    /// (final normalized states), `logits` (every position) and `last_logits` (last position).
    func build(config: [String: MetadataValue], catalog: inout WeightCatalog) throws -> ModelBlueprint
}

/// What a builder produces: the graph, and the reason each unused tensor is not needed.
public struct ModelBlueprint: Sendable {
    public var graph: Graph
    /// The vocabulary size (width of the logits).
    public var vocabularySize: Int
    /// The longest context the model was trained for (generation past it is allowed but warned).
    public var maxPositionEmbeddings: Int
    /// Explains why a tensor the graph does not read is left out.
    public var unusedReason: @Sendable (String) -> String
    /// For a vision-language model: the image encoder and the language model graph that takes
    /// its rows (see `MultimodalParts`).
    public var multimodal: MultimodalParts?
    /// Why a vision-language checkpoint's vision parts were not built, when they were not.
    public var visionProblem: String?

    public init(
        graph: Graph, vocabularySize: Int, maxPositionEmbeddings: Int,
        unusedReason: @escaping @Sendable (String) -> String, multimodal: MultimodalParts? = nil
    ) {
        self.graph = graph
        self.vocabularySize = vocabularySize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.unusedReason = unusedReason
        self.multimodal = multimodal
    }
}

/// The graphs of a vision-language model beyond the text-only decoder.
public struct MultimodalParts: Sendable {
    /// `pixel_values: f32[3, S, S]` -> outputs `vision_features`, `image_features`.
    public var vision: Graph
    /// The decoder with inputs `tokens: i32[T]` and `image_rows: f32[R, hidden]`: every negative
    /// id takes the next image row (outputs as the text graph's).
    public var decoder: Graph
    public var configuration: VisionConfiguration

    public init(vision: Graph, decoder: Graph, configuration: VisionConfiguration) {
        self.vision = vision
        self.decoder = decoder
        self.configuration = configuration
    }
}
