import MVLMCore
import MVLMGraph

/// MobileVLM (`model_type` `mobilevlm`, `MobileLlamaForCausalLM`): a MobileLLaMA language model,
/// a CLIP ViT vision tower and an LDP (V1) or LDPv2 (V2) projector.
///
/// The language model is `LlamaBuilder`'s graph under `model.`; the vision encoder
/// (`VisionBuilder`) is built when config.json carries the tower's configuration (`vision_config`,
/// added by `VisionTowerResolver` from a CLIP folder or the built-in table). Without it the model
/// runs text only and the vision tensors are reported unused with the reason.
public struct MobileVLMBuilder: ArchitectureBuilder {
    public let name = "mobilevlm"
    public let modelTypes = ["mobilevlm"]
    public let architectures = ["MobileLlamaForCausalLM"]

    public init() {}

    public func build(config: [String: MetadataValue], catalog: inout WeightCatalog) throws -> ModelBlueprint {
        let configuration = try LlamaConfiguration(config: config)
        var vision: VisionConfiguration?
        var visionProblem = "the vision tower's configuration is unknown (pass --vision-tower DIR)"
        if config["vision_config"] != nil {
            vision = try VisionConfiguration(config: config)
        } else if VisionBuilder.towerPrefix(in: catalog) == nil {
            visionProblem = "no vision tower in the checkpoint"
        }
        let reason: @Sendable (String) -> String = { [vision, visionProblem] name in
            if let known = VisionBuilder.unusedReason(name, configuration: vision) { return known }
            if name.hasPrefix("model.vision_tower.") || name.hasPrefix("model.mm_projector.") {
                return vision == nil ? "vision tower or projector not built: \(visionProblem)" : "not part of the MobileVLM vision encoder"
            }
            return LlamaBuilder.unusedReason(name, configuration: configuration) ?? "not part of a MobileVLM language model"
        }
        var blueprint = try LlamaBuilder.build(configuration, prefix: "model.", catalog: &catalog, unusedReason: reason)
        if let vision {
            guard vision.languageHiddenSize == configuration.hiddenSize else {
                throw MVLMError(.malformed, "projector width \(vision.languageHiddenSize) differs from hidden_size", file: "config.json")
            }
            let encoder = try VisionBuilder.build(vision, catalog: &catalog)
            let decoder = try LlamaBuilder.build(
                configuration, prefix: "model.", catalog: &catalog, imageRows: true, unusedReason: reason
            ).graph
            blueprint.multimodal = MultimodalParts(vision: encoder, decoder: decoder, configuration: vision)
        }
        return blueprint
    }
}
