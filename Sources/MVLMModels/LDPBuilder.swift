import MVLMCore
import MVLMGraph

/// MobileVLM's LDP projector: an MLP to the language width, then two MobileNetV3-style blocks
/// (depthwise 3x3, LayerNorm, Hardswish, squeeze-excite, pointwise, LayerNorm); the second has
/// stride 2, so 24x24 patches become 12x12 = 144 rows.
enum LDPBuilder {
    /// Adds the projector reading `features` (`[side*side, hiddenSize]`) and returns its output.
    static func build(
        _ c: VisionConfiguration, features: Int, in g: inout GraphBuilder, catalog: inout WeightCatalog
    ) throws -> Int {
        let h = c.hiddenSize
        let d = c.languageHiddenSize
        let side = c.gridSide
        let pp = VisionBuilder.projectorPrefix + "model."
        var y = try VisionBuilder.linear(features, pp + "mlp.1", [d, h], label: "projector.mlp.1", in: &g, catalog: &catalog)
        y = try g.add(.gelu, [y], label: "projector.mlp.2")
        y = try VisionBuilder.linear(y, pp + "mlp.3", [d, d], label: "projector.mlp.3", in: &g, catalog: &catalog)
        var grid = side
        for (block, stride) in [(1, 1), (2, 2)] {
            let bp = "\(pp)mb_block.\(block).block."
            let l = "projector.mb_block.\(block)"
            let window = PlanarWindow(height: grid, width: grid, kernel: 3, stride: stride, padding: 1)
            let input = y
            var z = try g.add(
                .depthwiseConv2d(window), [y, try catalog.weight(bp + "0.0.weight", [d, 1, 3, 3], in: &g)], label: "\(l).depthwise")
            z = try VisionBuilder.layerNorm(z, bp + "0.1", width: d, epsilon: 1e-5, label: "\(l).norm1", in: &g, catalog: &catalog)
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
            z = try VisionBuilder.layerNorm(z, bp + "2.1", width: d, epsilon: 1e-5, label: "\(l).norm2", in: &g, catalog: &catalog)
            if stride == 1 { z = try g.add(.add, [z, input], label: "\(l).residual") }
            y = z
            grid = window.outputHeight
        }
        return y
    }
}
