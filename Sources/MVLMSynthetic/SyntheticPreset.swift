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
    ]

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
