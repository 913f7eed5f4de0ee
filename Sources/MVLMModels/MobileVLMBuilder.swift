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
        // The encoder first, on a copy of the catalog: a tower that does not fit the checkpoint
        // leaves the text model usable; the reason is given when an image is asked for (and
        // conversion refuses to drop the tower).
        var vision: (configuration: VisionConfiguration, encoder: Graph)?
        var visionProblem: String?
        if config["vision_config"] != nil {
            do {
                let parsed = try VisionConfiguration(config: config)
                var attempt = catalog
                let encoder = try VisionBuilder.build(parsed, catalog: &attempt)
                catalog = attempt
                vision = (parsed, encoder)
            } catch let error as MVLMError {
                visionProblem = "\(error.description) (pass --vision-tower DIR if the tower configuration is wrong)"
            }
        } else if VisionBuilder.towerPrefix(in: catalog) == nil {
            visionProblem = "no vision tower in the checkpoint"
        } else {
            visionProblem = "the vision tower's configuration is unknown (pass --vision-tower DIR)"
        }
        let reason: @Sendable (String) -> String = { [parsed = vision?.configuration, visionProblem] name in
            if name.hasPrefix("model.vision_tower.") || name.hasPrefix("model.mm_projector.") {
                guard let parsed else { return "vision tower or projector not built: \(visionProblem ?? "")" }
                return VisionBuilder.unusedReason(name, configuration: parsed) ?? "not part of the MobileVLM vision encoder"
            }
            return LlamaBuilder.unusedReason(name, configuration: configuration) ?? "not part of a MobileVLM language model"
        }
        var blueprint = try LlamaBuilder.build(configuration, prefix: "model.", catalog: &catalog, unusedReason: reason)
        blueprint.visionProblem = visionProblem
        if let vision {
            let decoder = try LlamaBuilder.build(
                configuration, prefix: "model.", catalog: &catalog, imageRows: true, unusedReason: reason
            ).graph
            blueprint.multimodal = MultimodalParts(vision: vision.encoder, decoder: decoder, configuration: vision.configuration)
        }
        return blueprint
    }
}
