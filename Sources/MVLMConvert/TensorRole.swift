/// What a weight does in the model, recognized from its name (Hugging Face and GGUF spellings).
/// The mixed-precision policy decides per role.
public enum TensorRole: String, Sendable, Hashable, CaseIterable, Codable {
    case tokenEmbedding = "token_embedding"
    case outputHead = "output_head"
    case attentionQuery = "attention_q"
    case attentionKey = "attention_k"
    case attentionValue = "attention_v"
    case attentionOutput = "attention_o"
    case ffnGate = "ffn_gate"
    case ffnUp = "ffn_up"
    case ffnDown = "ffn_down"
    case norm
    case visionTower = "vision_tower"
    case projector
    case other

    /// The role and layer index of a tensor named `name` with `rank` dimensions.
    public static func classify(_ name: String, rank: Int) -> (role: TensorRole, layer: Int?) {
        let layer = layerIndex(name)
        if name.contains("mm_projector.") || name.hasPrefix("mm.") { return (.projector, layer) }
        if name.contains("vision_tower.") || name.hasPrefix("vision_model.") || name.hasPrefix("v.") {
            return (.visionTower, layer)
        }
        if name.hasSuffix("norm.weight") || name.hasSuffix("norm.bias") || name.contains("layernorm")
            || name.hasSuffix("_norm.weight")
        {
            return (.norm, layer)
        }
        let table: [(String, TensorRole)] = [
            ("embed_tokens.weight", .tokenEmbedding), ("token_embd.weight", .tokenEmbedding),
            ("lm_head.weight", .outputHead),
            ("self_attn.q_proj.", .attentionQuery), ("attn_q.", .attentionQuery),
            ("self_attn.k_proj.", .attentionKey), ("attn_k.", .attentionKey),
            ("self_attn.v_proj.", .attentionValue), ("attn_v.", .attentionValue),
            ("self_attn.o_proj.", .attentionOutput), ("attn_output.", .attentionOutput),
            ("mlp.gate_proj.", .ffnGate), ("ffn_gate.", .ffnGate),
            ("mlp.up_proj.", .ffnUp), ("ffn_up.", .ffnUp),
            ("mlp.down_proj.", .ffnDown), ("ffn_down.", .ffnDown),
        ]
        if name == "output.weight" { return (.outputHead, nil) }
        for (fragment, role) in table where name.contains(fragment) { return (role, layer) }
        return (.other, layer)
    }

    /// The block index in `model.layers.N.`, `blk.N.` or `encoder.layers.N.`.
    static func layerIndex(_ name: String) -> Int? {
        for marker in ["layers.", "blk."] {
            guard let range = name.range(of: marker) else { continue }
            let digits = name[range.upperBound...].prefix { $0.isNumber }
            if let value = Int(digits) { return value }
        }
        return nil
    }
}
