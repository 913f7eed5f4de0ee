import MVLMCore

/// A model shape that `mvlm synth` can write with random weights: the Hugging Face config and the
/// tensor list of the real model, so benchmarks and conversions run at real sizes without a download.
public struct SyntheticPreset: Sendable {
    public struct TensorShape: Sendable, Hashable {
        public var name: String
        public var shape: [Int]
        /// Norm weights are written as ones; everything else random.
        public var isNorm: Bool
    }

    public var name: String
    public var summary: String
    /// config.json content.
    public var config: [String: MetadataValue]
    public var tensors: [TensorShape]
    /// The dtype and weights format the real checkpoint ships in (what `mvlm synth` writes when
    /// not told otherwise): f16 safetensors for the language models, bf16 `pytorch_model.bin`
    /// for MobileVLM as on the hub.
    public var defaultDType: DType = .float16
    public var defaultFormat: String = "safetensors"

    /// Parameter count.
    public var parameterCount: Int { tensors.reduce(0) { $0 + (Shape.elementCount($1.shape) ?? 0) } }

    /// Every built-in preset.
    public static let all: [SyntheticPreset] = [
        llama(
            name: "mobilellama-1.4b", summary: "MobileLLaMA-1.4B: 2048 hidden, 24 layers, 16 heads, 5632 FFN, vocab 32000, untied",
            hidden: 2048, layers: 24, heads: 16, kvHeads: 16, ffn: 5632, vocab: 32000),
        llama(
            name: "mobilellama-2.7b", summary: "MobileLLaMA-2.7B: 2560 hidden, 32 layers, 32 heads, 6912 FFN, vocab 32000, untied",
            hidden: 2560, layers: 32, heads: 32, kvHeads: 32, ffn: 6912, vocab: 32000),
        llama(
            name: "tiny-llama", summary: "a 2-layer toy LLaMA (256 hidden, GQA 8/4 heads, vocab 512) for quick trials",
            hidden: 256, layers: 2, heads: 8, kvHeads: 4, ffn: 688, vocab: 512),
        mobileVLM(
            name: "mobilevlm-1.7b", summary: "MobileVLM-1.7B (V1): CLIP ViT-L/14-336 + LDP + MobileLLaMA-1.4B, bf16 .bin as on the hub",
            projector: "ldpnet", hidden: 2048, layers: 24, heads: 16, ffn: 5632),
        mobileVLM(
            name: "mobilevlm-v2-1.7b", summary: "MobileVLM_V2-1.7B: CLIP ViT-L/14-336 + LDPv2 + MobileLLaMA-1.4B, bf16 .bin as on the hub",
            projector: "ldpnetv2", hidden: 2048, layers: 24, heads: 16, ffn: 5632),
        mobileVLM(
            name: "mobilevlm-v2-3b", summary: "MobileVLM_V2-3B: CLIP ViT-L/14-336 + LDPv2 + MobileLLaMA-2.7B, bf16 .bin as on the hub",
            projector: "ldpnetv2", hidden: 2560, layers: 32, heads: 32, ffn: 6912),
    ]

    /// A MobileVLM checkpoint as mtgv's folders hold it: the MobileLLaMA decoder, the whole CLIP
    /// ViT-L/14-336 tower (24 blocks, post-LayerNorm included) under
    /// `model.vision_tower.vision_tower.vision_model.`, and the LDP / LDPv2 projector.
    public static func mobileVLM(
        name: String, summary: String, projector: String, hidden: Int, layers: Int, heads: Int, ffn: Int
    ) -> SyntheticPreset {
        var preset = llama(name: name, summary: summary, hidden: hidden, layers: layers, heads: heads, kvHeads: heads, ffn: ffn, vocab: 32000)
        func tensor(_ name: String, _ shape: [Int], norm: Bool = false) -> TensorShape {
            TensorShape(name: name, shape: shape, isNorm: norm)
        }
        let (width, inner, side) = (1024, 4096, 24)
        let t = "model.vision_tower.vision_tower.vision_model."
        var vision = [
            tensor(t + "embeddings.class_embedding", [width]),
            tensor(t + "embeddings.patch_embedding.weight", [width, 3, 14, 14]),
            tensor(t + "embeddings.position_embedding.weight", [side * side + 1, width]),
            tensor(t + "pre_layrnorm.weight", [width], norm: true), tensor(t + "pre_layrnorm.bias", [width]),
        ]
        for layer in 0..<24 {
            let p = "\(t)encoder.layers.\(layer)."
            for projection in ["k_proj", "v_proj", "q_proj", "out_proj"] {
                vision += [tensor(p + "self_attn.\(projection).weight", [width, width]), tensor(p + "self_attn.\(projection).bias", [width])]
            }
            vision += [
                tensor(p + "layer_norm1.weight", [width], norm: true), tensor(p + "layer_norm1.bias", [width]),
                tensor(p + "mlp.fc1.weight", [inner, width]), tensor(p + "mlp.fc1.bias", [inner]),
                tensor(p + "mlp.fc2.weight", [width, inner]), tensor(p + "mlp.fc2.bias", [width]),
                tensor(p + "layer_norm2.weight", [width], norm: true), tensor(p + "layer_norm2.bias", [width]),
            ]
        }
        vision += [tensor(t + "post_layernorm.weight", [width], norm: true), tensor(t + "post_layernorm.bias", [width])]
        let m = "model.mm_projector."
        if projector == "ldpnet" {
            vision += [
                tensor(m + "model.mlp.1.weight", [hidden, width]), tensor(m + "model.mlp.1.bias", [hidden]),
                tensor(m + "model.mlp.3.weight", [hidden, hidden]), tensor(m + "model.mlp.3.bias", [hidden]),
            ]
            let squeezed = hidden / 4
            for block in 1...2 {
                let b = "\(m)model.mb_block.\(block).block."
                vision += [
                    tensor(b + "0.0.weight", [hidden, 1, 3, 3]),
                    tensor(b + "0.1.weight", [hidden], norm: true), tensor(b + "0.1.bias", [hidden]),
                    tensor(b + "1.fc1.weight", [squeezed, hidden, 1, 1]), tensor(b + "1.fc1.bias", [squeezed]),
                    tensor(b + "1.fc2.weight", [hidden, squeezed, 1, 1]), tensor(b + "1.fc2.bias", [hidden]),
                    tensor(b + "2.0.weight", [hidden, hidden, 1, 1]),
                    tensor(b + "2.1.weight", [hidden], norm: true), tensor(b + "2.1.bias", [hidden]),
                ]
            }
        } else {
            vision += [
                tensor(m + "mlp.mlp.0.weight", [hidden, width]), tensor(m + "mlp.mlp.0.bias", [hidden]),
                tensor(m + "mlp.mlp.2.weight", [hidden, hidden]), tensor(m + "mlp.mlp.2.bias", [hidden]),
                tensor(m + "peg.peg.0.weight", [hidden, 1, 3, 3]), tensor(m + "peg.peg.0.bias", [hidden]),
            ]
        }
        // The decoder's tensors come first in the hub's files, then tower and projector.
        preset.tensors += vision
        preset.config["architectures"] = .array([.string("MobileLlamaForCausalLM")], elementType: "JSON")
        preset.config["model_type"] = .string("mobilevlm")
        preset.config["mm_hidden_size"] = .int(Int64(width))
        preset.config["mm_projector_type"] = .string(projector)
        preset.config["mm_vision_select_layer"] = .int(-2)
        preset.config["mm_vision_select_feature"] = .string("patch")
        preset.config["mm_vision_tower"] = .string("openai/clip-vit-large-patch14-336")
        preset.config["mm_use_im_start_end"] = .bool(false)
        preset.config["mm_use_im_patch_token"] = .bool(false)
        preset.config["image_aspect_ratio"] = .string("pad")
        preset.config["vision_tower_type"] = .string("clip")
        preset.defaultDType = .bfloat16
        preset.defaultFormat = "bin"
        return preset
    }

    /// Looks a preset up by name.
    public static func named(_ name: String) -> SyntheticPreset? { all.first { $0.name == name } }

    /// A LLaMA-architecture (MobileLLaMA) model with Hugging Face tensor names.
    public static func llama(
        name: String, summary: String, hidden: Int, layers: Int, heads: Int, kvHeads: Int, ffn: Int, vocab: Int
    ) -> SyntheticPreset {
        let headDim = hidden / heads
        var tensors = [TensorShape(name: "model.embed_tokens.weight", shape: [vocab, hidden], isNorm: false)]
        for layer in 0..<layers {
            let p = "model.layers.\(layer)."
            tensors += [
                TensorShape(name: p + "self_attn.q_proj.weight", shape: [hidden, hidden], isNorm: false),
                TensorShape(name: p + "self_attn.k_proj.weight", shape: [kvHeads * headDim, hidden], isNorm: false),
                TensorShape(name: p + "self_attn.v_proj.weight", shape: [kvHeads * headDim, hidden], isNorm: false),
                TensorShape(name: p + "self_attn.o_proj.weight", shape: [hidden, hidden], isNorm: false),
                TensorShape(name: p + "mlp.gate_proj.weight", shape: [ffn, hidden], isNorm: false),
                TensorShape(name: p + "mlp.up_proj.weight", shape: [ffn, hidden], isNorm: false),
                TensorShape(name: p + "mlp.down_proj.weight", shape: [hidden, ffn], isNorm: false),
                TensorShape(name: p + "input_layernorm.weight", shape: [hidden], isNorm: true),
                TensorShape(name: p + "post_attention_layernorm.weight", shape: [hidden], isNorm: true),
            ]
        }
        tensors += [
            TensorShape(name: "model.norm.weight", shape: [hidden], isNorm: true),
            TensorShape(name: "lm_head.weight", shape: [vocab, hidden], isNorm: false),
        ]
        let config: [String: MetadataValue] = [
            "architectures": .array([.string("LlamaForCausalLM")], elementType: "JSON"),
            "model_type": .string("llama"),
            "hidden_size": .int(Int64(hidden)),
            "intermediate_size": .int(Int64(ffn)),
            "num_hidden_layers": .int(Int64(layers)),
            "num_attention_heads": .int(Int64(heads)),
            "num_key_value_heads": .int(Int64(kvHeads)),
            "vocab_size": .int(Int64(vocab)),
            "max_position_embeddings": .int(2048),
            "rms_norm_eps": .float(1e-6),
            "rope_theta": .float(10000),
            "hidden_act": .string("silu"),
            "tie_word_embeddings": .bool(false),
            "bos_token_id": .int(1),
            "eos_token_id": .int(2),
            "initializer_range": .float(0.02),
        ]
        return SyntheticPreset(name: name, summary: summary, config: config, tensors: tensors)
    }
}
