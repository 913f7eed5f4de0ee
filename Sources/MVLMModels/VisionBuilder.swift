import MVLMCore
import MVLMGraph

/// The image encoder of MobileVLM as a graph: the CLIP ViT tower up to `mm_vision_select_layer`
/// and the LDP / LDPv2 projector, with tensor names exactly as the released checkpoints have them.
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
        let h = c.hiddenSize
        let p = c.patchSize
        let pixels = try g.input("pixel_values", TensorType(.float32, shape: [c.channels, c.imageSize, c.imageSize]))

        func linear(_ x: Int, _ name: String, _ shape: [Int], bias: Bool = true, label: String) throws -> Int {
            let w = try catalog.weight(name + ".weight", shape, in: &g)
            var inputs = [x, w]
            if bias { inputs.append(try catalog.weight(name + ".bias", [shape[0]], in: &g)) }
            return try g.add(.linear, inputs, label: label)
        }
        func layerNorm(_ x: Int, _ name: String, width: Int, epsilon: Float, label: String) throws -> Int {
            let w = try catalog.weight(name + ".weight", [width], in: &g)
            let b = try catalog.weight(name + ".bias", [width], in: &g)
            return try g.add(.layerNorm(epsilon: epsilon), [x, w, b], label: label)
        }

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
        x = try layerNorm(x, prefix + "pre_layrnorm", width: h, epsilon: c.layerNormEpsilon, label: "vision.pre_layrnorm")

        let scale = 1 / Float(c.headDimension).squareRoot()
        for layer in 0..<c.usedLayerCount {
            let lp = "\(prefix)encoder.layers.\(layer)."
            let l = "vision.layers.\(layer)"
            let n1 = try layerNorm(x, lp + "layer_norm1", width: h, epsilon: c.layerNormEpsilon, label: "\(l).layer_norm1")
            let q: Int, k: Int, v: Int
            if catalog.contains(lp + "self_attn.qkv_proj.weight") {
                // Fused by `mvlm convert`: one product, sliced into q, k and v.
                let qkv = try linear(n1, lp + "self_attn.qkv_proj", [3 * h, h], label: "\(l).qkv_proj")
                q = try g.add(.slice(axis: 1, start: 0, end: h), [qkv], label: "\(l).q")
                k = try g.add(.slice(axis: 1, start: h, end: 2 * h), [qkv], label: "\(l).k")
                v = try g.add(.slice(axis: 1, start: 2 * h, end: nil), [qkv], label: "\(l).v")
            } else {
                q = try linear(n1, lp + "self_attn.q_proj", [h, h], label: "\(l).q_proj")
                k = try linear(n1, lp + "self_attn.k_proj", [h, h], label: "\(l).k_proj")
                v = try linear(n1, lp + "self_attn.v_proj", [h, h], label: "\(l).v_proj")
            }
            let attention = try g.add(
                .encoderAttention(heads: c.heads, headDimension: c.headDimension, scale: scale), [q, k, v], label: "\(l).attention")
            let o = try linear(attention, lp + "self_attn.out_proj", [h, h], label: "\(l).out_proj")
            x = try g.add(.add, [x, o], label: "\(l).residual_attention")
            let n2 = try layerNorm(x, lp + "layer_norm2", width: h, epsilon: c.layerNormEpsilon, label: "\(l).layer_norm2")
            let up = try linear(n2, lp + "mlp.fc1", [c.intermediateSize, h], label: "\(l).fc1")
            let act = try g.add(c.activation == "gelu" ? .gelu : .quickGelu, [up], label: "\(l).activation")
            let down = try linear(act, lp + "mlp.fc2", [h, c.intermediateSize], label: "\(l).fc2")
            x = try g.add(.add, [x, down], label: "\(l).residual_mlp")
        }
        let features = try g.add(.slice(axis: 0, start: 1, end: nil), [x], label: "vision.patch_features")
        g.output("vision_features", features)

        let d = c.languageHiddenSize
        let side = c.gridSide
        let projected: Int
        switch c.projector {
        case .ldp:
            let pp = projectorPrefix + "model."
            var y = try linear(features, pp + "mlp.1", [d, h], label: "projector.mlp.1")
            y = try g.add(.gelu, [y], label: "projector.mlp.2")
            y = try linear(y, pp + "mlp.3", [d, d], label: "projector.mlp.3")
            var grid = side
            for (block, stride) in [(1, 1), (2, 2)] {
                let bp = "\(pp)mb_block.\(block).block."
                let l = "projector.mb_block.\(block)"
                let window = PlanarWindow(height: grid, width: grid, kernel: 3, stride: stride, padding: 1)
                let input = y
                var z = try g.add(
                    .depthwiseConv2d(window), [y, try catalog.weight(bp + "0.0.weight", [d, 1, 3, 3], in: &g)], label: "\(l).depthwise")
                z = try layerNorm(z, bp + "0.1", width: d, epsilon: 1e-5, label: "\(l).norm1")
                z = try g.add(.hardSwish, [z], label: "\(l).hardswish")
                // Squeeze-excite: global mean -> 1x1 conv -> ReLU -> 1x1 conv -> hardsigmoid -> scale.
                let squeezed = catalog.shape(of: bp + "1.fc1.weight")?.first ?? 0
                guard squeezed > 0 else {
                    throw MVLMError(.notFound, "missing from the checkpoint (LDP squeeze-excite)", subject: "tensor '\(bp)1.fc1.weight'")
                }
                var s = try g.add(.meanRows, [z], label: "\(l).se.mean")
                s = try g.add(
                    .linear,
                    [s, try catalog.weight(bp + "1.fc1.weight", [squeezed, d, 1, 1], viewAs: [squeezed, d], in: &g),
                     try catalog.weight(bp + "1.fc1.bias", [squeezed], in: &g)],
                    label: "\(l).se.fc1")
                s = try g.add(.relu, [s], label: "\(l).se.relu")
                s = try g.add(
                    .linear,
                    [s, try catalog.weight(bp + "1.fc2.weight", [d, squeezed, 1, 1], viewAs: [d, squeezed], in: &g),
                     try catalog.weight(bp + "1.fc2.bias", [d], in: &g)],
                    label: "\(l).se.fc2")
                s = try g.add(.hardSigmoid, [s], label: "\(l).se.gate")
                z = try g.add(.mul, [z, s], label: "\(l).se.scale")
                z = try g.add(
                    .linear, [z, try catalog.weight(bp + "2.0.weight", [d, d, 1, 1], viewAs: [d, d], in: &g)], label: "\(l).pointwise")
                z = try layerNorm(z, bp + "2.1", width: d, epsilon: 1e-5, label: "\(l).norm2")
                if stride == 1 { z = try g.add(.add, [z, input], label: "\(l).residual") }
                y = z
                grid = window.outputHeight
            }
            projected = y
        case .ldpv2:
            let pp = projectorPrefix
            var y = try linear(features, pp + "mlp.mlp.0", [d, h], label: "projector.mlp.0")
            y = try g.add(.gelu, [y], label: "projector.mlp.1")
            y = try linear(y, pp + "mlp.mlp.2", [d, d], label: "projector.mlp.2")
            let kernel = side / 12
            y = try g.add(
                .averagePool2d(PlanarWindow(height: side, width: side, kernel: kernel, stride: kernel, padding: 0)), [y],
                label: "projector.dwn")
            let peg = try g.add(
                .depthwiseConv2d(PlanarWindow(height: 12, width: 12, kernel: 3, stride: 1, padding: 1)),
                [y, try catalog.weight(pp + "peg.peg.0.weight", [d, 1, 3, 3], in: &g), try catalog.weight(pp + "peg.peg.0.bias", [d], in: &g)],
                label: "projector.peg")
            projected = try g.add(.add, [peg, y], label: "projector.peg_residual")
        }
        g.output("image_features", projected)
        return try g.build()
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
