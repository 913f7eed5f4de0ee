import MVLMCore
import MVLMGraph

/// The CLIP ViT tower as graph nodes: patch embedding (a 14x14 stride-14 convolution as patches x
/// filter matrix), class row, positions, pre-LayerNorm and the encoder blocks up to
/// `mm_vision_select_layer`.
enum CLIPVisionBuilder {
    /// Adds the tower reading `pixels` (`f32[3, S, S]`) and returns the selected hidden state
    /// without its CLS row (`[patchCount, hiddenSize]`).
    static func build(
        _ c: VisionConfiguration, pixels: Int, prefix: String, in g: inout GraphBuilder, catalog: inout WeightCatalog
    ) throws -> Int {
        let h = c.hiddenSize
        let p = c.patchSize
        // Embeddings: conv patch embedding (no bias) as patches x filter matrix, CLS row, positions.
        let patches = try g.add(.patchify(patch: p), [pixels], label: "vision.patchify")
        let filter = try catalog.weight(
            prefix + "embeddings.patch_embedding.weight", [h, c.channels, p, p], viewAs: [h, c.channels * p * p], in: &g)
        let patchRows = try g.add(.linear, [patches, filter], label: "vision.patch_embedding")
        let cls = try g.add(.weightValues, [try catalog.weight(prefix + "embeddings.class_embedding", [h], in: &g)], label: "vision.class_embedding")
        let clsRow = try g.add(.reshape([.fixed(1), .fixed(h)]), [cls], label: "vision.class_row")
        var x = try g.add(.concat(axis: 0), [clsRow, patchRows], label: "vision.tokens")
        let positions = try g.add(
            .weightValues, [try catalog.weight(prefix + "embeddings.position_embedding.weight", [c.patchCount + 1, h], in: &g)],
            label: "vision.position_embedding")
        x = try g.add(.add, [x, positions], label: "vision.embeddings")
        x = try VisionBuilder.layerNorm(x, prefix + "pre_layrnorm", width: h, epsilon: c.layerNormEpsilon, label: "vision.pre_layrnorm", in: &g, catalog: &catalog)

        let scale = 1 / Float(c.headDimension).squareRoot()
        for layer in 0..<c.usedLayerCount {
            let lp = "\(prefix)encoder.layers.\(layer)."
            let l = "vision.layers.\(layer)"
            let n1 = try VisionBuilder.layerNorm(x, lp + "layer_norm1", width: h, epsilon: c.layerNormEpsilon, label: "\(l).layer_norm1", in: &g, catalog: &catalog)
            let q: Int, k: Int, v: Int
            if catalog.contains(lp + "self_attn.qkv_proj.weight") {
                // Fused by `mvlm convert`: one product, sliced into q, k and v.
                let qkv = try VisionBuilder.linear(n1, lp + "self_attn.qkv_proj", [3 * h, h], label: "\(l).qkv_proj", in: &g, catalog: &catalog)
                q = try g.add(.slice(axis: 1, start: 0, end: h), [qkv], label: "\(l).q")
                k = try g.add(.slice(axis: 1, start: h, end: 2 * h), [qkv], label: "\(l).k")
                v = try g.add(.slice(axis: 1, start: 2 * h, end: nil), [qkv], label: "\(l).v")
            } else {
                q = try VisionBuilder.linear(n1, lp + "self_attn.q_proj", [h, h], label: "\(l).q_proj", in: &g, catalog: &catalog)
                k = try VisionBuilder.linear(n1, lp + "self_attn.k_proj", [h, h], label: "\(l).k_proj", in: &g, catalog: &catalog)
                v = try VisionBuilder.linear(n1, lp + "self_attn.v_proj", [h, h], label: "\(l).v_proj", in: &g, catalog: &catalog)
            }
            let attention = try g.add(
                .encoderAttention(heads: c.heads, headDimension: c.headDimension, scale: scale), [q, k, v], label: "\(l).attention")
            let o = try VisionBuilder.linear(attention, lp + "self_attn.out_proj", [h, h], label: "\(l).out_proj", in: &g, catalog: &catalog)
            x = try g.add(.add, [x, o], label: "\(l).residual_attention")
            let n2 = try VisionBuilder.layerNorm(x, lp + "layer_norm2", width: h, epsilon: c.layerNormEpsilon, label: "\(l).layer_norm2", in: &g, catalog: &catalog)
            let up = try VisionBuilder.linear(n2, lp + "mlp.fc1", [c.intermediateSize, h], label: "\(l).fc1", in: &g, catalog: &catalog)
            let act = try g.add(c.activation == "gelu" ? .gelu : .quickGelu, [up], label: "\(l).activation")
            let down = try VisionBuilder.linear(act, lp + "mlp.fc2", [h, c.intermediateSize], label: "\(l).fc2", in: &g, catalog: &catalog)
            x = try g.add(.add, [x, down], label: "\(l).residual_mlp")
        }
        return try g.add(.slice(axis: 0, start: 1, end: nil), [x], label: "vision.patch_features")
    }
}
