import MVLMCore

/// The architectures the float engine can build, looked up by config.json's `model_type` (first)
/// or `architectures`.
public enum ArchitectureRegistry {
    /// Every builder, one per architecture.
    public static let builders: [any ArchitectureBuilder] = [LlamaBuilder(), MobileVLMBuilder()]

    /// The builder for a config.
    /// - Throws: `MVLMError` (`.unsupported`) naming the model type and listing what is supported.
    public static func builder(for config: [String: MetadataValue]) throws -> any ArchitectureBuilder {
        guard !config.isEmpty else {
            throw MVLMError(
                .notFound, "no config.json (or an empty one): the float engine needs it to build the model",
                file: "config.json")
        }
        let fields = ConfigFields(values: config)
        let modelType = try fields.string("model_type")
        if let modelType, let builder = builders.first(where: { $0.modelTypes.contains(modelType) }) {
            return builder
        }
        for architecture in fields.architectures {
            if let builder = builders.first(where: { $0.architectures.contains(architecture) }) {
                return builder
            }
        }
        let supported = builders.map { "\($0.modelTypes.joined(separator: "/")) (\($0.architectures.joined(separator: ", ")))" }
        let seen = modelType.map { "model_type \"\($0)\"" } ?? "no model_type"
        let architectures = fields.architectures.isEmpty ? "" : ", architectures \(fields.architectures)"
        throw MVLMError(
            .unsupported,
            "\(seen)\(architectures) is not supported by the float engine; supported: \(supported.joined(separator: "; "))",
            file: "config.json")
    }
}
