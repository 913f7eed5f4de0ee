import MVLMCore
import MVLMGraph

/// LLaMA decoders (`model_type` `llama`, `LlamaForCausalLM`), as Hugging Face transformers
/// computes them: pre-norm blocks of RMSNorm → attention (RoPE, grouped-query heads, optional
/// q/k/v/o biases) → residual, RMSNorm → SiLU-gated MLP → residual; final RMSNorm; `lm_head`
/// (or the embedding table when `tie_word_embeddings`).
public struct LlamaBuilder: ArchitectureBuilder {
    public let name = "llama"
    public let modelTypes = ["llama"]
    public let architectures = ["LlamaForCausalLM"]

    public init() {}

    public func build(config: [String: MetadataValue], catalog: inout WeightCatalog) throws -> ModelBlueprint {
        let configuration = try LlamaConfiguration(config: config)
        return try Self.build(configuration, prefix: "model.", catalog: &catalog) { name in
            Self.unusedReason(name, configuration: configuration) ?? "not part of a LLaMA model"
        }
    }

    /// Why a LLaMA-family checkpoint may hold `name` without the model reading it, if known.
    static func unusedReason(_ name: String, configuration: LlamaConfiguration) -> String? {
        if name.hasSuffix("rotary_emb.inv_freq") { return "rotary inv_freq buffer (recomputed from config.json)" }
        if name == "lm_head.weight" && configuration.tieWordEmbeddings {
            return "tie_word_embeddings is true: the embedding table is used as the output head"
        }
        if name.hasSuffix(".bias") && name.contains("self_attn.") && !configuration.attentionBias {
            return "attention_bias is false in config.json (transformers ignores it too)"
        }
        if name.hasSuffix(".bias") && name.contains(".mlp.") && !configuration.mlpBias {
            return "mlp_bias is false in config.json (transformers ignores it too)"
        }
        return nil
    }

    /// The decoder graph for `configuration`, its weights under `prefix` (`model.`).
    /// - Parameter imageRows: when true the graph has a second input `image_rows: f32[R, hidden]`
    ///   whose rows replace the negative ids of `tokens` in order (a multimodal prompt).
    static func build(
        _ c: LlamaConfiguration, prefix: String, catalog: inout WeightCatalog, imageRows: Bool = false,
        unusedReason: @escaping @Sendable (String) -> String
    ) throws -> ModelBlueprint {
        var g = GraphBuilder()
        let hidden = c.hiddenSize
        let queryWidth = c.heads * c.headDimension
        let keyWidth = c.keyValueHeads * c.headDimension
        let tokens = try g.input("tokens", TensorType(.int32, [.symbol("T")]))
        let embedName = prefix + "embed_tokens.weight"
        let table = try catalog.weight(embedName, [c.vocabularySize, hidden], in: &g)
        var embeddingInputs = [table, tokens]
        if imageRows {
            embeddingInputs.append(try g.input("image_rows", TensorType(.float32, [.symbol("R"), .fixed(hidden)])))
        }
        var h = try g.add(.embedding, embeddingInputs, label: "embed_tokens")

        func linear(_ x: Int, _ name: String, _ shape: [Int], bias: Bool, label: String) throws -> Int {
            let w = try catalog.weight(name + ".weight", shape, in: &g)
            var inputs = [x, w]
            if bias { inputs.append(try catalog.weight(name + ".bias", [shape[0]], in: &g)) }
            return try g.add(.linear, inputs, label: label)
        }

        let attentionScale = 1 / Float(c.headDimension).squareRoot()
        var layerOutputs: [Int] = []
        for layer in 0..<c.layerCount {
            let p = "\(prefix)layers.\(layer)."
            let l = "layers.\(layer)"
            let norm1 = try catalog.weight(p + "input_layernorm.weight", [hidden], in: &g)
            let x = try g.add(.rmsNorm(epsilon: c.rmsNormEpsilon), [h, norm1], label: "\(l).input_layernorm")
            var q: Int, k: Int, v: Int
            if catalog.contains(p + "self_attn.qkv_proj.weight") {
                // Fused by `mvlm convert`: one matrix of q, k and v rows, sliced after the product.
                let qkv = try linear(
                    x, p + "self_attn.qkv_proj", [queryWidth + 2 * keyWidth, hidden], bias: c.attentionBias,
                    label: "\(l).qkv_proj")
                q = try g.add(.slice(axis: 1, start: 0, end: queryWidth), [qkv], label: "\(l).q")
                k = try g.add(.slice(axis: 1, start: queryWidth, end: queryWidth + keyWidth), [qkv], label: "\(l).k")
                v = try g.add(.slice(axis: 1, start: queryWidth + keyWidth, end: nil), [qkv], label: "\(l).v")
            } else {
                q = try linear(x, p + "self_attn.q_proj", [queryWidth, hidden], bias: c.attentionBias, label: "\(l).q_proj")
                k = try linear(x, p + "self_attn.k_proj", [keyWidth, hidden], bias: c.attentionBias, label: "\(l).k_proj")
                v = try linear(x, p + "self_attn.v_proj", [keyWidth, hidden], bias: c.attentionBias, label: "\(l).v_proj")
            }
            q = try g.add(.rope(c.rope), [q], label: "\(l).rope_q")
            k = try g.add(.rope(c.rope), [k], label: "\(l).rope_k")
            let attention = try g.add(
                .attention(AttentionParameters(
                    heads: c.heads, keyValueHeads: c.keyValueHeads, headDimension: c.headDimension,
                    scale: attentionScale, cacheSlot: layer)),
                [q, k, v], label: "\(l).attention")
            let o = try linear(attention, p + "self_attn.o_proj", [hidden, queryWidth], bias: c.attentionBias, label: "\(l).o_proj")
            h = try g.add(.add, [h, o], label: "\(l).residual_attention")
            let norm2 = try catalog.weight(p + "post_attention_layernorm.weight", [hidden], in: &g)
            let y = try g.add(.rmsNorm(epsilon: c.rmsNormEpsilon), [h, norm2], label: "\(l).post_attention_layernorm")
            let gate: Int, up: Int
            if catalog.contains(p + "mlp.gate_up_proj.weight") {
                let fused = try linear(
                    y, p + "mlp.gate_up_proj", [2 * c.intermediateSize, hidden], bias: c.mlpBias, label: "\(l).gate_up_proj")
                gate = try g.add(.slice(axis: 1, start: 0, end: c.intermediateSize), [fused], label: "\(l).gate")
                up = try g.add(.slice(axis: 1, start: c.intermediateSize, end: nil), [fused], label: "\(l).up")
            } else {
                gate = try linear(y, p + "mlp.gate_proj", [c.intermediateSize, hidden], bias: c.mlpBias, label: "\(l).gate_proj")
                up = try linear(y, p + "mlp.up_proj", [c.intermediateSize, hidden], bias: c.mlpBias, label: "\(l).up_proj")
            }
            let act = try g.add(.siluMul, [gate, up], label: "\(l).silu_mul")
            let down = try linear(act, p + "mlp.down_proj", [hidden, c.intermediateSize], bias: c.mlpBias, label: "\(l).down_proj")
            h = try g.add(.add, [h, down], label: "\(l).residual_mlp")
            layerOutputs.append(h)
        }
        let finalNorm = try catalog.weight(prefix + "norm.weight", [hidden], in: &g)
        let final = try g.add(.rmsNorm(epsilon: c.rmsNormEpsilon), [h, finalNorm], label: "norm")
        let head: Int
        if c.tieWordEmbeddings {
            head = table
        } else {
            guard catalog.contains("lm_head.weight") else {
                throw MVLMError(
                    .notFound,
                    "missing from the checkpoint; expected shape [\(c.vocabularySize), \(hidden)] (tie_word_embeddings is false in config.json)",
                    subject: "tensor 'lm_head.weight'")
            }
            head = try catalog.weight("lm_head.weight", [c.vocabularySize, hidden], in: &g)
        }
        let logits = try g.add(.linear, [final, head], label: "lm_head")
        let last = try g.add(.slice(axis: 0, start: -1, end: nil), [final], label: "last_position")
        let lastLogits = try g.add(.linear, [last, head], label: "lm_head_last")
        g.output("hidden", final)
        g.output("logits", logits)
        g.output("last_logits", lastLogits)
        // The residual stream after each block, for per-layer comparisons (`mvlm verify`).
        for (layer, node) in layerOutputs.enumerated() { g.output("layers.\(layer)", node) }
        return ModelBlueprint(
            graph: try g.build(), vocabularySize: c.vocabularySize,
            maxPositionEmbeddings: c.maxPositionEmbeddings, unusedReason: unusedReason)
    }
}
