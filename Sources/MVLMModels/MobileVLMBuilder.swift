import MVLMCore
import MVLMGraph

/// MobileVLM (`model_type` `mobilevlm`, `MobileLlamaForCausalLM`): a MobileLLaMA language model
/// with a CLIP vision tower and an LDP projector.
///
/// For now only the language model is built (the same LLaMA blocks and names as `LlamaBuilder`);
/// the `model.vision_tower.*` and `model.mm_projector.*` tensors are reported as unused.
public struct MobileVLMBuilder: ArchitectureBuilder {
    public let name = "mobilevlm"
    public let modelTypes = ["mobilevlm"]
    public let architectures = ["MobileLlamaForCausalLM"]

    public init() {}

    public func build(config: [String: MetadataValue], catalog: inout WeightCatalog) throws -> ModelBlueprint {
        let configuration = try LlamaConfiguration(config: config)
        return try LlamaBuilder.build(configuration, prefix: "model.", catalog: &catalog) { name in
            if name.hasPrefix("model.vision_tower.") { return "vision tower (not built yet: language model only)" }
            if name.hasPrefix("model.mm_projector.") { return "multimodal projector (not built yet: language model only)" }
            return LlamaBuilder.unusedReason(name, configuration: configuration) ?? "not part of a MobileVLM language model"
        }
    }
}
