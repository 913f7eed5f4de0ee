import MVLMCore
import MVLMGraph

/// MobileVLM V2's LDPv2 projector: an MLP to the language width, a kxk average pool to 12x12
/// positions (144 rows) and a depthwise 3x3 positional-encoding generator added back.
enum LDPv2Builder {
    /// Adds the projector reading `features` (`[side*side, hiddenSize]`) and returns its output.
    static func build(
        _ c: VisionConfiguration, features: Int, in g: inout GraphBuilder, catalog: inout WeightCatalog
    ) throws -> Int {
        let h = c.hiddenSize
        let d = c.languageHiddenSize
        let side = c.gridSide
        let pp = VisionBuilder.projectorPrefix
        var y = try VisionBuilder.linear(features, pp + "mlp.mlp.0", [d, h], label: "projector.mlp.0", in: &g, catalog: &catalog)
        y = try g.add(.gelu, [y], label: "projector.mlp.1")
        y = try VisionBuilder.linear(y, pp + "mlp.mlp.2", [d, d], label: "projector.mlp.2", in: &g, catalog: &catalog)
        let kernel = side / 12
        y = try g.add(
            .averagePool2d(PlanarWindow(height: side, width: side, kernel: kernel, stride: kernel, padding: 0)), [y],
            label: "projector.dwn")
        let peg = try g.add(
            .depthwiseConv2d(PlanarWindow(height: 12, width: 12, kernel: 3, stride: 1, padding: 1)),
            [y, try catalog.weight(pp + "peg.peg.0.weight", [d, 1, 3, 3], in: &g), try catalog.weight(pp + "peg.peg.0.bias", [d], in: &g)],
            label: "projector.peg")
        return try g.add(.add, [peg, y], label: "projector.peg_residual")
    }
}
