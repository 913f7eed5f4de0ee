import MVLMCore
import MVLMGraph

/// The image encoder of MobileVLM as a graph: the CLIP ViT tower up to `mm_vision_select_layer`
/// (`CLIPVisionBuilder`) and the LDP or LDPv2 projector (`LDPBuilder`, `LDPv2Builder`), with
/// tensor names exactly as the released checkpoints have them.
///
/// Input `pixel_values: f32[3, S, S]` (preprocessed); outputs `vision_features` (the selected
/// hidden state without its CLS row, `[576, 1024]` for ViT-L/14-336) and `image_features` (the
/// projector's `[144, hidden]` rows that replace the image token in the prompt).
enum VisionBuilder {
    /// Where the CLIP tower's tensors live in a MobileVLM checkpoint.
    /// (The hub's files were written by transformers 4, which nests CLIP under `vision_model.`;
    /// transformers 5 drops that level.)
    static let towerPrefixes = [
        "model.vision_tower.vision_tower.vision_model.", "model.vision_tower.vision_tower.", "model.vision_tower.vision_model.",
        "vision_model.",
    ]
    static let projectorPrefix = "model.mm_projector."

    /// The tower prefix this checkpoint uses, if any.
    static func towerPrefix(in catalog: WeightCatalog) -> String? {
        towerPrefixes.first { catalog.contains($0 + "embeddings.patch_embedding.weight") }
    }

    static func build(_ c: VisionConfiguration, catalog: inout WeightCatalog) throws -> Graph {
        guard let prefix = towerPrefix(in: catalog) else {
            throw MVLMError(
                .notFound,
                "missing from the checkpoint: the CLIP vision tower (looked for \(towerPrefixes.map { $0 + "embeddings.patch_embedding.weight" }.joined(separator: ", ")))",
                subject: "vision tower")
        }
        var g = GraphBuilder()
        let pixels = try g.input("pixel_values", TensorType(.float32, shape: [c.channels, c.imageSize, c.imageSize]))
        let features = try CLIPVisionBuilder.build(c, pixels: pixels, prefix: prefix, in: &g, catalog: &catalog)
        g.output("vision_features", features)
        let projected = switch c.projector {
        case .ldp: try LDPBuilder.build(c, features: features, in: &g, catalog: &catalog)
        case .ldpv2: try LDPv2Builder.build(c, features: features, in: &g, catalog: &catalog)
        }
        g.output("image_features", projected)
        return try g.build()
    }

    /// A `linear` node reading `name.weight` (`shape`, `[outputs, inputs]`) and, with `bias`,
    /// `name.bias`.
    static func linear(
        _ x: Int, _ name: String, _ shape: [Int], bias: Bool = true, label: String,
        in g: inout GraphBuilder, catalog: inout WeightCatalog
    ) throws -> Int {
        let w = try catalog.weight(name + ".weight", shape, in: &g)
        var inputs = [x, w]
        if bias { inputs.append(try catalog.weight(name + ".bias", [shape[0]], in: &g)) }
        return try g.add(.linear, inputs, label: label)
    }

    /// A `layerNorm` node reading `name.weight` and `name.bias` (`[width]` each).
    static func layerNorm(
        _ x: Int, _ name: String, width: Int, epsilon: Float, label: String,
        in g: inout GraphBuilder, catalog: inout WeightCatalog
    ) throws -> Int {
        let w = try catalog.weight(name + ".weight", [width], in: &g)
        let b = try catalog.weight(name + ".bias", [width], in: &g)
        return try g.add(.layerNorm(epsilon: epsilon), [x, w, b], label: label)
    }

    /// Why a vision tensor of the checkpoint is not read, if it is one.
    static func unusedReason(_ name: String, configuration c: VisionConfiguration) -> String? {
        guard let prefix = towerPrefixes.first(where: { name.hasPrefix($0) }) else { return nil }
        let rest = name.dropFirst(prefix.count)
        if rest.hasPrefix("post_layernorm.") {
            return "vision post-LayerNorm is not run: the projector reads hidden state \(c.selectLayer)"
        }
        if rest.hasPrefix("embeddings.position_ids") { return "position ids buffer (positions are 0, 1, 2, ...)" }
        if rest.hasPrefix("encoder.layers.") {
            return "vision block not run: mm_vision_select_layer \(c.selectLayer) uses blocks 0..\(c.usedLayerCount - 1) of \(c.layerCount)"
        }
        return nil
    }
}
