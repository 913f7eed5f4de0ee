/// Tensor names as llama.cpp writes and reads them: the language model as `convert_hf_to_gguf.py`
/// names a LLaMA (`LlamaModel`, gguf-py's tensor map) and the CLIP tower and MobileVLM projector as
/// llama.cpp's mtmd (`tools/mtmd/clip-impl.h`) reads them.
public enum GGUFNaming {
    /// The GGUF name of a LLaMA tensor named as Hugging Face (`model.layers.3.self_attn.q_proj.weight`
    /// → `blk.3.attn_q.weight`) or already as GGUF (kept); nil for a tensor llama.cpp's llama
    /// architecture does not have.
    public static func languageModelName(_ name: String) -> String? {
        switch name {
        case "model.embed_tokens.weight", "token_embd.weight": return "token_embd.weight"
        case "model.norm.weight", "output_norm.weight": return "output_norm.weight"
        case "lm_head.weight", "output.weight": return "output.weight"
        default: break
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0] == "blk", Int(parts[1]) != nil, blockNames.values.contains(String(parts[2])),
            parts[3] == "weight" || parts[3] == "bias"
        {
            return name
        }
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]), layer >= 0,
            let suffix = parts.last, suffix == "weight" || suffix == "bias"
        else { return nil }
        let role = parts[3..<(parts.count - 1)].joined(separator: ".")
        guard let short = blockNames[role] else { return nil }
        return "blk.\(layer).\(short).\(suffix)"
    }

    /// Hugging Face block module → GGUF block tensor (gguf-py `MODEL_TENSOR` names for LLaMA).
    static let blockNames = [
        "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
    ]

    /// Whether `name` (Hugging Face spelling) is a query or key projection whose rows llama.cpp's
    /// converter permutes (`LlamaModel.permute`), and which head count applies: the query heads for
    /// Q, the key-value heads for K.
    public static func permutedProjection(_ name: String) -> PermutedProjection? {
        if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") { return .query }
        if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") { return .key }
        return nil
    }

    public enum PermutedProjection: Sendable {
        case query, key
    }

    /// The mmproj name of a MobileVLM vision-tower or projector tensor
    /// (`model.vision_tower.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight` →
    /// `v.blk.0.ffn_up.weight`; `model.mm_projector.mlp.mlp.0.weight` → `mm.model.mlp.0.weight`), or
    /// nil for a tensor the mmproj leaves out (`post_layernorm`, position ids, the text tower).
    ///
    /// The CLIP names are those mtmd's `clip.cpp` loads (`TN_*` in `clip-impl.h`): `v.class_embd`,
    /// `v.patch_embd.weight`, `v.position_embd.weight`, `v.pre_ln.*`, `v.blk.N.{attn_q,attn_k,attn_v,
    /// attn_out,ln1,ln2,ffn_up,ffn_down}.*`. `fc1` is written as `ffn_up` and `fc2` as `ffn_down`, as
    /// llama.cpp's current converters do (its legacy script wrote them the other way round, which
    /// clip.cpp detects from the shapes and swaps back). Projector names: `mm.model.mlp.N.*`,
    /// `mm.model.mb_block.N.block.M.*` (LDP) and `mm.model.peg.0.*` (LDPv2), as
    /// `convert_image_encoder_to_gguf.py` maps them.
    public static func visionName(_ name: String) -> String? {
        if let range = name.range(of: "mm_projector.") {
            var rest = String(name[range.upperBound...])
            if rest.hasPrefix("mlp.mlp.") { rest = "model.mlp." + rest.dropFirst("mlp.mlp.".count) }
            if rest.hasPrefix("peg.peg.") { rest = "model.peg." + rest.dropFirst("peg.peg.".count) }
            guard rest.hasPrefix("model.") else { return nil }
            return "mm." + rest
        }
        guard let range = name.range(of: "vision_model.") else { return nil }
        let rest = String(name[range.upperBound...])
        switch rest {
        case "embeddings.class_embedding": return "v.class_embd"
        case "embeddings.patch_embedding.weight": return "v.patch_embd.weight"
        case "embeddings.patch_embedding.bias": return "v.patch_embd.bias"
        case "embeddings.position_embedding.weight": return "v.position_embd.weight"
        case "pre_layrnorm.weight": return "v.pre_ln.weight"
        case "pre_layrnorm.bias": return "v.pre_ln.bias"
        default: break
        }
        let parts = rest.split(separator: ".")
        guard parts.count >= 5, parts[0] == "encoder", parts[1] == "layers", let layer = Int(parts[2]),
            let suffix = parts.last, suffix == "weight" || suffix == "bias"
        else { return nil }
        let module = parts[3..<(parts.count - 1)].joined(separator: ".")
        let table = [
            "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
            "self_attn.out_proj": "attn_out", "layer_norm1": "ln1", "layer_norm2": "ln2",
            "mlp.fc1": "ffn_up", "mlp.fc2": "ffn_down",
        ]
        guard let short = table[module] else { return nil }
        return "v.blk.\(layer).\(short).\(suffix)"
    }

    /// The block index of a CLIP encoder tensor (`...encoder.layers.N.`), if it is one.
    static func visionLayer(_ name: String) -> Int? {
        guard let range = name.range(of: "vision_model.encoder.layers.") else { return nil }
        return Int(name[range.upperBound...].prefix { $0.isNumber })
    }
}
