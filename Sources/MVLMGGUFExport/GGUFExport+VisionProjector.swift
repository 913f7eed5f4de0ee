import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMGGUF

extension GGUFExport {
    /// The mmproj GGUF of a MobileVLM checkpoint: the CLIP vision tower and the LDP / LDPv2
    /// projector, with the keys llama.cpp's mtmd reads (`clip.cpp` `load_hparams`; the layout of
    /// `tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py` with `--projector-type ldp|ldpv2`).
    ///
    /// Layer selection: MobileVLM takes the hidden state `mm_vision_select_layer` (-2: after 23 of
    /// CLIP ViT-L's 24 blocks). As the legacy script does when the config has that key, the file
    /// holds only the blocks that selection runs (`clip.vision.block_count` = 23, `v.blk.0`–`22`)
    /// and `clip.vision.feature_layer` = [23]. The feature layer matters: without it, mtmd's llava
    /// graph (`models/llava.cpp`) runs `block_count - 1` blocks, one short of what the projector
    /// was trained on (llama.cpp issue 25817); with it, the graph runs exactly 23 and takes their
    /// output.
    ///
    /// Hyperparameters come from `vision_config` (config.json's, or the one `VisionTowerResolver`
    /// resolved from `mm_vision_tower`) and the image mean and deviation from `preprocessor_config`
    /// when present, else from the shapes
    /// (width, FFN width, blocks, patch and image size) and CLIP ViT-L/14-336's constants for what
    /// shapes cannot tell (heads of 64 dimensions, layer-norm epsilon 1e-5, quick-GELU, projection
    /// dimension 768, OpenAI's image mean and standard deviation).
    static func visionProjectorPart(checkpoint: Checkpoint, config: [String: MetadataValue], decisions: [TensorDecision]) throws -> Part {
        let source = checkpoint.path
        let projectorType: String
        switch config["mm_projector_type"]?.stringValue {
        case "ldpnet": projectorType = "ldp"
        case "ldpnetv2": projectorType = "ldpv2"
        case let other:
            throw MVLMError(
                .unsupported, "projector '\(other ?? "none")' has no mtmd GGUF form here (supported: ldpnet → ldp, ldpnetv2 → ldpv2)",
                file: source, subject: "config.json field 'mm_projector_type'")
        }
        func shape(_ suffix: String) throws -> [Int] {
            guard let decision = decisions.first(where: { $0.name.hasSuffix("vision_model." + suffix) }) else {
                throw MVLMError(.notFound, "the vision tower has no tensor '...vision_model.\(suffix)'", file: source)
            }
            return decision.shape
        }
        let vision = config["vision_config"] ?? config["mm_vision_config"] ?? .null
        let width = try shape("embeddings.class_embedding").last ?? 0
        let ffn = try shape("encoder.layers.0.mlp.fc1.weight").first ?? 0
        let patch = try shape("embeddings.patch_embedding.weight").last ?? 0
        let positions = try shape("embeddings.position_embedding.weight").first ?? 0
        let side = Int(Double(max(positions - 1, 0)).squareRoot().rounded())
        guard width > 0, patch > 0, side * side == positions - 1 else {
            throw MVLMError(
                .malformed, "the vision tower's shapes do not describe a CLIP ViT (class embedding \(width), patch \(patch), \(positions) positions)",
                file: source)
        }
        // Blocks the checkpoint holds (the plan may already have dropped those after the selected
        // hidden state), and those the plan keeps.
        let towerBlocks = Set(checkpoint.reader.tensorInfos.compactMap { GGUFNaming.visionLayer($0.name) }).count
        let plannedBlocks = Set(decisions.compactMap { GGUFNaming.visionLayer($0.name) })
        let layers = vision["num_hidden_layers"]?.intValue ?? towerBlocks
        let select = config["mm_vision_select_layer"]?.intValue ?? -2
        // Hidden states run [embeddings, block 1 output, ..., block N output]: a negative index counts
        // from the end, as the legacy converter normalizes it (N + index + 1).
        let featureLayer = select < 0 ? layers + select + 1 : select
        guard featureLayer >= 1, featureLayer <= layers, (0..<featureLayer).allSatisfy(plannedBlocks.contains) else {
            throw MVLMError(
                .malformed, "selects hidden state \(select) of a \(layers)-block tower, but blocks 0..<\(featureLayer) are not all in the plan (\(plannedBlocks.count) of \(towerBlocks) stored blocks are)",
                file: source, subject: "config.json field 'mm_vision_select_layer'")
        }
        let heads = vision["num_attention_heads"]?.intValue ?? max(width / 64, 1)
        guard width % heads == 0 else {
            throw MVLMError(.malformed, "width \(width) does not split into \(heads) heads", file: source, subject: "config.json field 'vision_config.num_attention_heads'")
        }
        var dropped: [ConversionPlan.Dropped] = []
        var kept: [TensorDecision] = []
        for decision in decisions {
            guard GGUFNaming.visionName(decision.name) != nil else {
                dropped.append(.init(name: decision.name, reason: "mtmd's LDP models do not use it (the legacy converter skips it too)"))
                continue
            }
            if let layer = GGUFNaming.visionLayer(decision.name), layer >= featureLayer {
                dropped.append(.init(name: decision.name, reason: "block \(layer) comes after the selected hidden state \(select)"))
                continue
            }
            let squeezed = decision.shape.filter { $0 != 1 }
            if squeezed.count != 2, decision.outputDType != .float16 && decision.outputDType != .float32 {
                throw MVLMError(
                    .unsupported, "a \(squeezed.count)-d tensor (a convolution kernel, a vector) must be F16 or F32 for mtmd, not \(decision.outputDType)",
                    file: source, subject: "tensor '\(decision.name)'")
            }
            kept.append(decision)
        }
        // The legacy converter squeezes the projector's 1×1 and depthwise convolution kernels
        // ([C, 1, 3, 3] → [C, 3, 3], [C, C, 1, 1] → [C, C]); CLIP's tensors have no unit dimensions.
        let table = try tensorTable(
            kept, name: { GGUFNaming.visionName($0.name)! },
            shape: { decision in
                let squeezed = decision.shape.filter { $0 != 1 }
                return squeezed.isEmpty ? [1] : squeezed
            })
        var entries: [GGUFMetadataEntry] = []
        func add(_ key: String, _ type: GGUFValueType, _ value: MetadataValue) {
            entries.append(GGUFMetadataEntry(key: key, type: type, value: value))
        }
        func count(_ value: Int) -> MetadataValue { .uint(UInt64(value)) }
        func floats(_ values: [Double]) -> MetadataValue { .array(values.map { .float($0) }, elementType: "FLOAT32") }
        add("general.architecture", .string, .string("clip"))
        add("clip.has_text_encoder", .bool, .bool(false))
        add("clip.has_vision_encoder", .bool, .bool(true))
        add("clip.has_llava_projector", .bool, .bool(true))
        add("general.file_type", .uint32, count(fileType(of: kept)))
        add("general.name", .string, .string(config["mm_vision_tower"]?.stringValue ?? "vision tower"))
        add("general.description", .string, .string("image encoder for LLaVA"))
        add("clip.projector_type", .string, .string(projectorType))
        add("clip.vision.image_size", .uint32, count(vision["image_size"]?.intValue ?? side * patch))
        add("clip.vision.patch_size", .uint32, count(patch))
        add("clip.vision.embedding_length", .uint32, count(width))
        add("clip.vision.feed_forward_length", .uint32, count(ffn))
        add("clip.vision.projection_dim", .uint32, count(vision["projection_dim"]?.intValue ?? 768))
        add("clip.vision.attention.head_count", .uint32, count(heads))
        add("clip.vision.attention.layer_norm_epsilon", .float32, .float(vision["layer_norm_eps"]?.doubleValue ?? 1e-5))
        add("clip.vision.block_count", .uint32, count(featureLayer))
        add("clip.vision.feature_layer", .array, .array([.int(Int64(featureLayer))], elementType: "INT32"))
        let preprocessor = config["preprocessor_config"] ?? .null
        func statistic(_ key: String, _ standard: [Double]) -> MetadataValue {
            let values = preprocessor[key]?.arrayValue?.compactMap(\.doubleValue) ?? []
            return floats(values.count == 3 ? values : standard)
        }
        add("clip.vision.image_mean", .array, statistic("image_mean", [0.48145466, 0.4578275, 0.40821073]))
        add("clip.vision.image_std", .array, statistic("image_std", [0.26862954, 0.26130258, 0.27577711]))
        add("clip.use_gelu", .bool, .bool(vision["hidden_act"]?.stringValue == "gelu"))
        return Part(metadata: entries, tensors: table.tensors, decisions: kept, routes: table.routes, dropped: dropped)
    }
}
