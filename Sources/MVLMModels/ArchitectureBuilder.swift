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

    public init(
        graph: Graph, vocabularySize: Int, maxPositionEmbeddings: Int,
        unusedReason: @escaping @Sendable (String) -> String
    ) {
        self.graph = graph
        self.vocabularySize = vocabularySize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.unusedReason = unusedReason
    }
}
