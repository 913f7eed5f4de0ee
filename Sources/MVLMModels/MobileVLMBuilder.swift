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
            do {
                vision = try VisionConfiguration(config: config)
            } catch let error as MVLMError {
                visionProblem = "\(error.description) (pass --vision-tower DIR if the tower configuration is wrong)"
            }
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
        guard let vision else {
            blueprint.visionProblem = visionProblem
            return blueprint
        }
        // A tower that does not fit the checkpoint leaves the text model usable; the reason is
        // given when an image is asked for (and conversion refuses to drop the tower).
        var attempt = catalog
        do {
            let encoder = try VisionBuilder.build(vision, catalog: &attempt)
            let decoder = try LlamaBuilder.build(
                configuration, prefix: "model.", catalog: &attempt, imageRows: true, unusedReason: reason
            ).graph
            catalog = attempt
            blueprint.multimodal = MultimodalParts(vision: encoder, decoder: decoder, configuration: vision)
        } catch let error as MVLMError {
            blueprint.visionProblem = "\(error.description) (pass --vision-tower DIR if the tower configuration is wrong)"
            let problem = blueprint.visionProblem!
            blueprint.unusedReason = { name in
                name.hasPrefix("model.vision_tower.") || name.hasPrefix("model.mm_projector.")
                    ? "vision tower or projector not built: \(problem)" : reason(name)
            }
        }
        return blueprint
    }
}
