import MVLMCore

/// Llama-architecture GGUF files as engine sources: their metadata as a Hugging Face
/// config.json, their tensor names as Hugging Face names.
///
/// llama.cpp's converter permutes the rows of every Q and K projection from the rotate-half order
/// into adjacent pairs. Rather than copying those (possibly block-quantized) tensors back, the
/// config asks for interleaved RoPE (`mvlm_rope_interleaved`), which on the stored rows computes
/// exactly what rotate-half computes on the unpermuted ones: attention only sees q·k dot
/// products, which the shared permutation leaves unchanged. Every weight stays a zero-copy view,
/// and block types are kept as stored (a conversion copies them through).
public enum GGUFLlama {
    /// Whether `metadata` describes a llama-architecture model.
    public static func describesLlama(_ metadata: [String: MetadataValue]) -> Bool {
        metadata["general.architecture"]?.stringValue == "llama"
    }

    /// The Hugging Face configuration of the model `metadata` describes.
    /// - Throws: `MVLMError` naming the missing or invalid key.
    public static func config(metadata: [String: MetadataValue], tensorNames: Set<String>) throws -> [String: MetadataValue] {
        func integer(_ key: String) throws -> Int64 {
            guard let value = metadata["llama." + key]?.intValue, value > 0 else {
                throw MVLMError(.notFound, "missing or not a positive integer", subject: "GGUF key 'llama.\(key)'")
            }
            return Int64(value)
        }
        let heads = try integer("attention.head_count")
        let kvHeads = metadata["llama.attention.head_count_kv"]?.intValue.map(Int64.init) ?? heads
        let hidden = try integer("embedding_length")
        guard let vocabulary = metadata["llama.vocab_size"]?.intValue ?? metadata["tokenizer.ggml.tokens"]?.arrayValue?.count else {
            throw MVLMError(
                .notFound, "missing, and so is llama.vocab_size: the vocabulary size comes from one of them",
                subject: "GGUF key 'tokenizer.ggml.tokens'")
        }
        var config: [String: MetadataValue] = [
            "model_type": .string("llama"), "architectures": .array([.string("LlamaForCausalLM")], elementType: "JSON"),
            "hidden_size": .int(hidden), "intermediate_size": .int(try integer("feed_forward_length")),
            "num_hidden_layers": .int(try integer("block_count")), "num_attention_heads": .int(heads),
            "num_key_value_heads": .int(kvHeads), "vocab_size": .int(Int64(vocabulary)),
            "max_position_embeddings": .int(Int64(metadata["llama.context_length"]?.intValue ?? 2048)),
            "rms_norm_eps": .float(metadata["llama.attention.layer_norm_rms_epsilon"]?.doubleValue ?? 1e-5),
            "rope_theta": .float(metadata["llama.rope.freq_base"]?.doubleValue ?? 10000),
            "tie_word_embeddings": .bool(!tensorNames.contains("output.weight")),
            "hidden_act": .string("silu"), "mvlm_rope_interleaved": .bool(true), "mvlm_source_format": .string("gguf"),
        ]
        if let dimension = metadata["llama.rope.dimension_count"]?.intValue, Int64(dimension) != hidden / heads {
            config["head_dim"] = .int(Int64(dimension))
        }
        if let scaling = metadata["llama.rope.scaling.type"]?.stringValue, scaling != "none" {
            guard scaling == "linear", let factor = metadata["llama.rope.scaling.factor"]?.doubleValue else {
                throw MVLMError(.unsupported, "RoPE scaling '\(scaling)' is not supported (supported: none, linear)", subject: "GGUF key 'llama.rope.scaling.type'")
            }
            config["rope_scaling"] = .object(["rope_type": .string("linear"), "factor": .float(factor)])
        }
        for (key, name) in [("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id")] {
            if let id = metadata["tokenizer.ggml.\(key)"]?.intValue { config[name] = .int(Int64(id)) }
        }
        return config
    }

    /// The Hugging Face name of a GGUF tensor name (`blk.3.attn_q.weight` →
    /// `model.layers.3.self_attn.q_proj.weight`), or nil for a name llama.cpp does not write.
    public static func huggingFaceName(_ name: String) -> String? {
        switch name {
        case "token_embd.weight": return "model.embed_tokens.weight"
        case "output_norm.weight": return "model.norm.weight"
        case "output.weight": return "lm_head.weight"
        default: break
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0,
            let role = blockNames[String(parts[2])], parts[3] == "weight" || parts[3] == "bias"
        else { return nil }
        return "model.layers.\(layer).\(role).\(parts[3])"
    }

    static let blockNames = [
        "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
        "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
    ]
}

/// A reader that shows another reader's tensors under other names (GGUF → Hugging Face names);
/// tensors without a mapping keep their own name.
public struct RenamedTensorReader: TensorReader {
    public let base: any TensorReader
    private let original: [String: String]
    public let tensorInfos: [TensorInfo]

    public init(_ base: any TensorReader, rename: (String) -> String?) {
        self.base = base
        var original: [String: String] = [:]
        var infos: [TensorInfo] = []
        for var info in base.tensorInfos {
            let name = rename(info.name) ?? info.name
            original[name] = info.name
            info.name = name
            infos.append(info)
        }
        self.original = original
        self.tensorInfos = infos
    }

    public var formatName: String { base.formatName }
    public var metadata: [String: MetadataValue] { base.metadata }
    public func tensor(named name: String) throws -> Tensor { try base.tensor(named: original[name] ?? name) }
}
