import Foundation
import MVLMCore
import MVLMGraph
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// The vision operations (depthwise convolution, pooling, bidirectional attention, patches,
/// broadcasting, spliced embeddings) through the interpreter, each against a plain loop written
/// here in Double straight from PyTorch's definitions.
@Suite struct VisionKernelTests {
    /// Runs a one-input graph built by `body` on `x`.
    static func run(
        _ x: Activation, weights: [String: Tensor] = [:], threads: Int = 2,
        _ body: (inout GraphBuilder, Int) throws -> Int
    ) throws -> Activation {
        var g = GraphBuilder()
        let input = try g.input("x", TensorType(.float32, shape: x.shape))
        g.output("y", try body(&g, input))
        var interpreter = try Interpreter(graph: try g.build(), weights: weights, threads: threads)
        return try interpreter.run(["x": .floats(x)], outputs: ["y"])["y"]!
    }

    static func close(_ a: [Float], _ b: [Double], tolerance: Double = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
    }

    /// PyTorch `conv2d(groups = C)` on NCHW, transcribed to the token-major layout.
    static func depthwiseReference(
        _ x: [Float], channels: Int, height: Int, width: Int, weight: [Float], bias: [Float]?, stride: Int, padding: Int, kernel: Int
    ) -> [Double] {
        let oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1
        var y = [Double](repeating: 0, count: oh * ow * channels)
        for c in 0..<channels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum = Double(bias?[c] ?? 0)
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                            guard (0..<height).contains(iy), (0..<width).contains(ix) else { continue }
                            sum += Double(weight[(c * kernel + ky) * kernel + kx]) * Double(x[(iy * width + ix) * channels + c])
                        }
                    }
                    y[(oy * ow + ox) * channels + c] = sum
                }
            }
        }
        return y
    }

    @Test(arguments: [(1, true, true), (2, false, true), (2, true, false)])
    func depthwiseConvolution(stride: Int, bias: Bool, f16: Bool) throws {
        var random = SeededRandom(seed: UInt64(stride * 10 + (bias ? 1 : 0)))
        let (h, w, c, k) = (5, 7, 19, 3)  // non-square grid, channels not a multiple of 8
        let x = random.floats(h * w * c)
        let filter = random.floats(c * k * k)
        let shift = random.floats(c)
        let dtype: DType = f16 ? .float16 : .float32
        let filterTensor = try makeTensor(filter, shape: [c, 1, k, k], dtype: dtype)
        let filterValues = try filterTensor.floatValues()
        var weights = ["w": filterTensor]
        if bias { weights["b"] = try makeTensor(shift, shape: [c], dtype: .float32) }
        let window = PlanarWindow(height: h, width: w, kernel: k, stride: stride, padding: 1)
        let y = try Self.run(Activation(shape: [h * w, c], values: x), weights: weights) { g, input in
            var inputs = [input, try g.weight("w", TensorType(dtype, shape: [c, 1, k, k]))]
            if bias { inputs.append(try g.weight("b", TensorType(.float32, shape: [c]))) }
            return try g.add(.depthwiseConv2d(window), inputs)
        }
        #expect(y.shape == [window.outputHeight * window.outputWidth, c])
        #expect(y.shape[0] == (stride == 1 ? 35 : 12))
        let expected = Self.depthwiseReference(
            x, channels: c, height: h, width: w, weight: filterValues, bias: bias ? shift : nil, stride: stride, padding: 1, kernel: k)
        #expect(Self.close(y.values, expected))
    }

    @Test func averagePoolingAndColumnMeans() throws {
        var random = SeededRandom(seed: 3)
        let (h, w, c) = (4, 6, 5)
        let x = random.floats(h * w * c)
        let pooled = try Self.run(Activation(shape: [h * w, c], values: x)) { g, input in
            try g.add(.averagePool2d(PlanarWindow(height: h, width: w, kernel: 2, stride: 2, padding: 0)), [input])
        }
        var expected: [Double] = []
        for oy in 0..<2 {
            for ox in 0..<3 {
                for ch in 0..<c {
                    var sum = 0.0
                    for dy in 0..<2 { for dx in 0..<2 { sum += Double(x[((2 * oy + dy) * w + 2 * ox + dx) * c + ch]) } }
                    expected.append(sum / 4)
                }
            }
        }
        #expect(pooled.shape == [6, c])
        #expect(Self.close(pooled.values, expected))
        let mean = try Self.run(Activation(shape: [h * w, c], values: x)) { g, input in try g.add(.meanRows, [input]) }
        let columnMeans = (0..<c).map { ch in (0..<(h * w)).reduce(0.0) { $0 + Double(x[$1 * c + ch]) } / Double(h * w) }
        #expect(mean.shape == [1, c])
        #expect(Self.close(mean.values, columnMeans))
    }

    @Test(arguments: [1, 2])
    func bidirectionalAttention(threads: Int) throws {
        var random = SeededRandom(seed: 5)
        let (t, heads, d) = (9, 3, 8)  // 9 rows: not a multiple of the 4-query block
        let q = random.floats(t * heads * d, in: -2...2), k = random.floats(t * heads * d, in: -2...2)
        let v = random.floats(t * heads * d)
        var g = GraphBuilder()
        let type = TensorType(.float32, shape: [t, heads * d])
        let qi = try g.input("q", type), ki = try g.input("k", type), vi = try g.input("v", type)
        g.output("y", try g.add(.encoderAttention(heads: heads, headDimension: d, scale: 0.35), [qi, ki, vi]))
        var interpreter = try Interpreter(graph: try g.build(), weights: [:], threads: threads)
        let shape = [t, heads * d]
        let y = try interpreter.run(
            ["q": .floats(Activation(shape: shape, values: q)), "k": .floats(Activation(shape: shape, values: k)),
             "v": .floats(Activation(shape: shape, values: v))],
            outputs: ["y"])["y"]!
        var expected = [Double](repeating: 0, count: t * heads * d)
        for h in 0..<heads {
            for i in 0..<t {
                // Every query sees every key, the last row included (no causal mask).
                let scores = (0..<t).map { j in
                    (0..<d).reduce(0.0) { $0 + Double(q[i * heads * d + h * d + $1]) * Double(k[j * heads * d + h * d + $1]) } * 0.35
                }
                let top = scores.max()!
                let e = scores.map { Foundation.exp($0 - top) }
                let total = e.reduce(0, +)
                for c in 0..<d {
                    expected[i * heads * d + h * d + c] = (0..<t).reduce(0.0) { $0 + e[$1] / total * Double(v[$1 * heads * d + h * d + c]) }
                }
            }
        }
        #expect(Self.close(y.values, expected))
        #expect(interpreter.cachedTokenCount == 0)  // nothing cached
    }

    @Test func patchesAreSquaresInChannelRowColumnOrder() throws {
        let (c, h, w, p) = (3, 4, 6, 2)
        let x = (0..<(c * h * w)).map(Float.init)
        let y = try Self.run(Activation(shape: [c, h, w], values: x)) { g, input in try g.add(.patchify(patch: p), [input]) }
        #expect(y.shape == [6, 12])
        // Patch (row 1, column 2): channel 0 rows 2-3, columns 4-5, then channels 1 and 2.
        var expected: [Float] = []
        for ch in 0..<c { for ky in 0..<2 { for kx in 0..<2 { expected.append(x[(ch * h + 2 + ky) * w + 4 + kx]) } } }
        #expect(Array(y.row(5)) == expected)
    }

    @Test func activationsAndBroadcasting() throws {
        let inputs: [Float] = [-4, -3, -1.5, 0, 1.5, 3, 4, 7]
        let swish = try Self.run(Activation(shape: [8], values: inputs)) { g, x in try g.add(.hardSwish, [x]) }
        let sigmoid = try Self.run(Activation(shape: [8], values: inputs)) { g, x in try g.add(.hardSigmoid, [x]) }
        let relu = try Self.run(Activation(shape: [8], values: inputs)) { g, x in try g.add(.relu, [x]) }
        // quick-GELU, vectorized: wide range (both tails, zero) and a tail not a multiple of 8.
        let wide = (0..<203).map { Float($0 - 101) * 0.37 }
        let gelu = try Self.run(Activation(shape: [203], values: wide)) { g, x in try g.add(.quickGelu, [x]) }
        #expect(Self.close(gelu.values, wide.map { Double($0) / (1 + Foundation.exp(-1.702 * Double($0))) }, tolerance: 2e-6))
        // PyTorch: hardswish(x) = x * relu6(x + 3) / 6, hardsigmoid(x) = relu6(x + 3) / 6.
        #expect(Self.close(swish.values, inputs.map { Double($0) * min(max(Double($0) + 3, 0), 6) / 6 }))
        #expect(Self.close(sigmoid.values, inputs.map { min(max(Double($0) + 3, 0), 6) / 6 }))
        #expect(relu.values == inputs.map { max($0, 0) })

        var g = GraphBuilder()
        let a = try g.input("a", TensorType(.float32, shape: [3, 4]))
        let b = try g.input("b", TensorType(.float32, shape: [1, 4]))
        let c = try g.input("c", TensorType(.float32, shape: [3, 1]))
        g.output("ab", try g.add(.mul, [a, b]))
        g.output("ac", try g.add(.add, [a, c]))
        #expect(throws: MVLMError.self) { try g.add(.add, [b, a]) }  // only the second input broadcasts
        var interpreter = try Interpreter(graph: try g.build(), weights: [:], threads: 1)
        let av = (0..<12).map(Float.init), bv: [Float] = [1, 10, 100, 1000], cv: [Float] = [-1, -2, -3]
        let out = try interpreter.run(
            ["a": .floats(Activation(shape: [3, 4], values: av)), "b": .floats(Activation(shape: [1, 4], values: bv)),
             "c": .floats(Activation(shape: [3, 1], values: cv))],
            outputs: ["ab", "ac"])
        #expect(out["ab"]!.values == (0..<12).map { Float($0) * bv[$0 % 4] })
        #expect(out["ac"]!.values == (0..<12).map { Float($0) + cv[$0 / 4] })
    }

    @Test func splicedEmbeddingRowsReplaceNegativeIDs() throws {
        var g = GraphBuilder()
        let ids = try g.input("ids", TensorType(.int32, [.symbol("T")]))
        let rows = try g.input("rows", TensorType(.float32, [.symbol("R"), .fixed(2)]))
        let table = try g.weight("table", TensorType(.float32, shape: [4, 2]))
        g.output("y", try g.add(.embedding, [table, ids, rows]))
        let tableValues: [Float] = [0, 1, 10, 11, 20, 21, 30, 31]
        var interpreter = try Interpreter(
            graph: try g.build(), weights: ["table": try makeTensor(tableValues, shape: [4, 2], dtype: .float32)], threads: 1)
        let image = Activation(shape: [2, 2], values: [-5, -6, -7, -8])
        let y = try interpreter.run(["ids": .tokens([3, -200, -200, 1]), "rows": .floats(image)], outputs: ["y"])["y"]!
        #expect(y.values == [30, 31, -5, -6, -7, -8, 10, 11])
        // One image row per negative id, no more and no fewer.
        #expect(throws: MVLMError.self) {
            try interpreter.run(["ids": .tokens([3, -200, 1]), "rows": .floats(image)], outputs: ["y"])
        }
        let none = try interpreter.run(["ids": .tokens([2]), "rows": .floats(Activation(shape: [0, 2], values: []))], outputs: ["y"])["y"]!
        #expect(none.values == [20, 21])
    }

    @Test func badWindowsAndWeightsAreRejectedWhenTheGraphIsBuilt() throws {
        var g = GraphBuilder()
        let x = try g.input("x", TensorType(.float32, shape: [12, 4]))
        let w = try g.weight("w", TensorType(.float32, shape: [4, 1, 3, 3]))
        // Padding must be below the kernel; the grid must hold the rows; the filter must match.
        #expect(throws: MVLMError.self) { try g.add(.depthwiseConv2d(PlanarWindow(height: 3, width: 4, kernel: 3, stride: 1, padding: 3)), [x, w]) }
        #expect(throws: MVLMError.self) { try g.add(.depthwiseConv2d(PlanarWindow(height: 4, width: 4, kernel: 3, stride: 1, padding: 1)), [x, w]) }
        let wrong = try g.weight("wrong", TensorType(.float32, shape: [5, 1, 3, 3]))
        #expect(throws: MVLMError.self) { try g.add(.depthwiseConv2d(PlanarWindow(height: 3, width: 4, kernel: 3, stride: 1, padding: 1)), [x, wrong]) }
        #expect(throws: MVLMError.self) { try g.add(.averagePool2d(PlanarWindow(height: 3, width: 4, kernel: 2, stride: 2, padding: 1)), [x]) }
        let blocks = try g.weight("q8", TensorType(.block(.q8_0), shape: [2, 32]))
        #expect(throws: MVLMError.self) { try g.add(.weightValues, [blocks]) }
        #expect(throws: MVLMError.self) { try g.add(.patchify(patch: 5), [x]) }
        let ok = try g.add(.depthwiseConv2d(PlanarWindow(height: 3, width: 4, kernel: 3, stride: 2, padding: 1)), [x, w])
        #expect(g.type(of: ok).shape() == [4, 4])  // ceil(3/2) x ceil(4/2)
    }
}
