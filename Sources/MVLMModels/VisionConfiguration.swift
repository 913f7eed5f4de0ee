import MVLMCore

/// The vision half of a MobileVLM model: the CLIP ViT tower's hyper-parameters, which of its
/// layers feeds the projector, and the projector's kind.
///
/// The tower's own fields (`vision_config`, Hugging Face `CLIPVisionConfig` names) are not in a
/// released MobileVLM config.json; `VisionTowerResolver` adds them from a CLIP folder or the
/// built-in table before the model is built, and `mvlm convert` stores them in the .mvlm file.
public struct VisionConfiguration: Hashable, Sendable {
    /// The projector architectures MobileVLM ships.
    public enum Projector: String, Hashable, Sendable {
        /// LDP (MobileVLM V1, `ldpnet`): MLP, then two MobileNetV3 inverted-residual blocks.
        case ldp = "ldpnet"
        /// LDPv2 (MobileVLM V2, `ldpnetv2`): MLP, 2x2 average pooling, positional depthwise conv.
        case ldpv2 = "ldpnetv2"
    }

    public var hiddenSize: Int
    public var intermediateSize: Int
    public var heads: Int
    /// Encoder blocks in the checkpoint (24 for ViT-L/14).
    public var layerCount: Int
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    public var layerNormEpsilon: Float
    /// `quick_gelu` (CLIP) or `gelu`.
    public var activation: String
    /// `mm_vision_select_layer`: which hidden state feeds the projector (-2: the output of the
    /// second-to-last block; index 0 is the embeddings after the pre-LayerNorm).
    public var selectLayer: Int
    /// `mm_vision_select_feature`: `patch` drops the CLS row, `cls_patch` keeps it.
    public var selectFeature: String
    public var projector: Projector
    /// `mm_hidden_size`: the tower's output width as the projector sees it.
    public var projectorInputSize: Int
    /// The language model's width (the projector's output).
    public var languageHiddenSize: Int
    /// The image preprocessing (a Hugging Face preprocessor_config.json object; empty when unknown).
    public var preprocessor: [String: MetadataValue]
    /// `image_aspect_ratio` "pad": the image is padded to a square of the mean colour first.
    public var padToSquare: Bool

    /// Patches per side (24 for 336 / 14).
    public var gridSide: Int { imageSize / patchSize }
    /// Patch rows out of the tower (576).
    public var patchCount: Int { gridSide * gridSide }
    /// Encoder blocks that run: hidden state `selectLayer` needs blocks `0..<usedLayerCount`.
    public var usedLayerCount: Int { Self.usedLayerCount(selectLayer: selectLayer, layerCount: layerCount) }

    /// Blocks that hidden state `selectLayer` of a `layerCount`-block tower needs (negative counts
    /// from the end of `hidden_states`, which has `layerCount + 1` entries).
    static func usedLayerCount(selectLayer: Int, layerCount: Int) -> Int {
        selectLayer < 0 ? layerCount + 1 + selectLayer : selectLayer
    }
    /// Side of the projector's output grid: LDP's stride-2 convolution halves the grid (rounding
    /// up), LDPv2 pools to MobileVLM's fixed 12x12.
    public var outputSide: Int {
        switch projector {
        case .ldp: (gridSide - 1) / 2 + 1
        case .ldpv2: 12
        }
    }
    /// Image rows spliced into the prompt per image (144 for both projectors on 24x24 patches).
    public var imageTokenCount: Int { outputSide * outputSide }
    public var headDimension: Int { hiddenSize / heads }

    /// Reads `vision_config` and the `mm_*` fields of a MobileVLM config.json.
    /// - Throws: `MVLMError` naming the field; `.notFound` when `vision_config` is absent (the
    ///   message says to pass `--vision-tower`).
    public init(config: [String: MetadataValue]) throws {
        let fields = ConfigFields(values: config)
        guard let tower = try fields.object("vision_config") else {
            throw MVLMError(
                .notFound,
                "the vision tower's configuration is unknown: pass --vision-tower DIR (a CLIP folder with config.json)",
                file: "config.json", subject: "'vision_config'")
        }
        let t = ConfigFields(values: tower)
        func fail(_ key: String, _ message: String) -> MVLMError {
            MVLMError(.malformed, message, file: "config.json", subject: "'\(key)'")
        }
        hiddenSize = try t.positiveInt("hidden_size", default: 768)
        intermediateSize = try t.positiveInt("intermediate_size", default: 3072)
        heads = try t.positiveInt("num_attention_heads", default: 12)
        layerCount = try t.positiveInt("num_hidden_layers", default: 12)
        imageSize = try t.positiveInt("image_size", default: 224)
        patchSize = try t.positiveInt("patch_size", default: 32)
        channels = try t.positiveInt("num_channels", default: 3)
        layerNormEpsilon = Float(try t.number("layer_norm_eps", default: 1e-5))
        activation = try t.string("hidden_act") ?? "quick_gelu"
        guard hiddenSize % heads == 0 else {
            throw fail("vision_config.num_attention_heads", "\(heads) heads do not divide hidden_size \(hiddenSize)")
        }
        guard imageSize % patchSize == 0 else {
            throw fail("vision_config.patch_size", "\(patchSize) does not divide image_size \(imageSize)")
        }
        guard ["quick_gelu", "gelu"].contains(activation) else {
            throw MVLMError(
                .unsupported, "vision activation '\(activation)' is not supported (quick_gelu, gelu)",
                file: "config.json", subject: "'vision_config.hidden_act'")
        }
        let select = config["mm_vision_select_layer"]?.intValue ?? -2
        selectLayer = select
        let used = Self.usedLayerCount(selectLayer: select, layerCount: layerCount)
        guard (1...layerCount).contains(used) else {
            throw fail("mm_vision_select_layer", "\(select) selects no block of a \(layerCount)-block tower")
        }
        selectFeature = try fields.string("mm_vision_select_feature") ?? "patch"
        guard ["patch", "cls_patch"].contains(selectFeature) else {
            throw MVLMError(
                .unsupported, "'\(selectFeature)' is not supported (patch, cls_patch)", file: "config.json",
                subject: "'mm_vision_select_feature'")
        }
        let kind = try fields.string("mm_projector_type") ?? "linear"
        // MobileVLM's own rule: names starting with "ldpnetv2" are LDPv2, other "ldpnet" names LDP.
        if kind.hasPrefix("ldpnetv2") {
            projector = .ldpv2
        } else if kind.hasPrefix("ldpnet") {
            projector = .ldp
        } else {
            throw MVLMError(
                .unsupported, "projector '\(kind)' is not supported (MobileVLM's ldpnet, ldpnetv2)", file: "config.json",
                subject: "'mm_projector_type'")
        }
        preprocessor = try fields.object("preprocessor_config") ?? [:]
        padToSquare = try fields.string("image_aspect_ratio") == "pad"
        projectorInputSize = try fields.positiveInt("mm_hidden_size", default: hiddenSize)
        languageHiddenSize = try fields.positiveInt("hidden_size")
        guard projectorInputSize == hiddenSize else {
            throw fail("mm_hidden_size", "is \(projectorInputSize) but the vision tower is \(hiddenSize) wide")
        }
        guard selectFeature == "patch" else {
            throw MVLMError(
                .unsupported, "the LDP projectors take the patch features only (got \(selectFeature))",
                file: "config.json", subject: "'mm_vision_select_feature'")
        }
        if projector == .ldpv2, gridSide % 12 != 0 {
            throw MVLMError(
                .unsupported,
                "LDPv2 pools the \(gridSide)x\(gridSide) patch grid to 12x12, which needs a multiple of 12 (image_size / patch_size)",
                file: "config.json", subject: "'vision_config.image_size'")
        }
    }
}

extension VisionConfiguration {
    /// CLIP's image preprocessing at `size` pixels: what CLIPImageProcessor uses for the towers
    /// MobileVLM is released with, and so the preprocessing of a model whose file records none.
    public static func defaultPreprocessor(size: Int) -> [String: MetadataValue] {
        [
            "crop_size": .int(Int64(size)), "size": .object(["shortest_edge": .int(Int64(size))]),
            "do_resize": .bool(true), "do_center_crop": .bool(true), "do_rescale": .bool(true), "do_normalize": .bool(true),
            "do_convert_rgb": .bool(true), "resample": .int(3), "rescale_factor": .float(1.0 / 255.0),
            "image_mean": .array([.float(0.48145466), .float(0.4578275), .float(0.40821073)], elementType: "JSON"),
            "image_std": .array([.float(0.26862954), .float(0.26130258), .float(0.27577711)], elementType: "JSON"),
        ]
    }
}
