import Foundation
import MVLMCore
import MVLMGraph
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// One attention layer over an embedding, for checking prefill against step-by-step decoding
/// and against a naive reference.
struct TinyAttentionModel {
    let vocabulary = 11, width = 16, heads = 4, kvHeads = 2, headDim = 4
    let graph: Graph
    let weights: [String: Tensor]
    let table: [Float], wq: [Float], wk: [Float], wv: [Float]

    init(dtype: DType) throws {
        var random = SeededRandom(seed: 7)
        var g = GraphBuilder()
        let tokens = try g.input("tokens", TensorType(.int32, [.symbol("T")]))
        let e = try g.weight("embed", TensorType(dtype, shape: [vocabulary, width]))
        let x = try g.add(.embedding, [e, tokens])
        let q = try g.add(.linear, [x, try g.weight("q", TensorType(dtype, shape: [heads * headDim, width]))])
        let k = try g.add(.linear, [x, try g.weight("k", TensorType(dtype, shape: [kvHeads * headDim, width]))])
        let v = try g.add(.linear, [x, try g.weight("v", TensorType(dtype, shape: [kvHeads * headDim, width]))])
        let rope = RotaryEmbedding(headDimension: headDim, theta: 100)
        let qr = try g.add(.rope(rope), [q])
        let kr = try g.add(.rope(rope), [k])
        let parameters = AttentionParameters(heads: heads, keyValueHeads: kvHeads, headDimension: headDim, scale: 0.5, cacheSlot: 0)
        let a = try g.add(.attention(parameters), [qr, kr, v])
        g.output("attention", a)
        g.output("last", try g.add(.slice(axis: 0, start: -1, end: nil), [a]))
        graph = try g.build()
        let tableTensor = try makeTensor(random.floats(vocabulary * width), shape: [vocabulary, width], dtype: dtype)
        let qTensor = try makeTensor(random.floats(heads * headDim * width), shape: [heads * headDim, width], dtype: dtype)
        let kTensor = try makeTensor(random.floats(kvHeads * headDim * width), shape: [kvHeads * headDim, width], dtype: dtype)
        let vTensor = try makeTensor(random.floats(kvHeads * headDim * width), shape: [kvHeads * headDim, width], dtype: dtype)
        weights = ["embed": tableTensor, "q": qTensor, "k": kTensor, "v": vTensor]
        table = try tableTensor.floatValues()
        wq = try qTensor.floatValues()
        wk = try kTensor.floatValues()
        wv = try vTensor.floatValues()
    }

    /// Straightforward causal attention in Double.
    func reference(_ ids: [Int32]) -> [Float] {
        let n = ids.count
        func project(_ w: [Float], _ rows: Int) -> [[Double]] {
            ids.map { id in
                (0..<rows).map { r in (0..<width).reduce(0.0) { $0 + Double(table[Int(id) * width + $1]) * Double(w[r * width + $1]) } }
            }
        }
        func rotate(_ m: [[Double]], _ headsCount: Int) -> [[Double]] {
            m.enumerated().map { position, row in
                var out = row
                for h in 0..<headsCount {
                    for i in 0..<(headDim / 2) {
                        let angle = Double(position) * pow(100.0, -Double(2 * i) / Double(headDim))
                        let a = row[h * headDim + i], b = row[h * headDim + i + headDim / 2]
                        out[h * headDim + i] = a * cos(angle) - b * sin(angle)
                        out[h * headDim + i + headDim / 2] = b * cos(angle) + a * sin(angle)
                    }
                }
                return out
            }
        }
        let q = rotate(project(wq, heads * headDim), heads)
        let k = rotate(project(wk, kvHeads * headDim), kvHeads)
        let v = project(wv, kvHeads * headDim)
        var out = [Float](repeating: 0, count: n * heads * headDim)
        for t in 0..<n {
            for h in 0..<heads {
                let g = h / (heads / kvHeads)
                let scores = (0...t).map { j in (0..<headDim).reduce(0.0) { $0 + q[t][h * headDim + $1] * k[j][g * headDim + $1] } * 0.5 }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }
                let s = e.reduce(0, +)
                for i in 0..<headDim {
                    out[t * heads * headDim + h * headDim + i] = Float((0...t).reduce(0.0) { $0 + e[$1] / s * v[$1][g * headDim + i] })
                }
            }
        }
        return out
    }
}

@Suite struct InterpreterTests {
    @Test(arguments: [DType.float32, .float16, .bfloat16])
    func prefillMatchesReferenceAndDecodeSteps(dtype: DType) throws {
        let model = try TinyAttentionModel(dtype: dtype)
        let ids: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
        let expected = model.reference(ids)
        var whole = try Interpreter(graph: model.graph, weights: model.weights, threads: 2)
        let prefill = try #require(try whole.run(["tokens": .tokens(ids)], outputs: ["attention"])["attention"])
        #expect(prefill.shape == [ids.count, 16])
        #expect(try #require(maxAbsoluteDifference(prefill.values, expected)) < 1e-5)
        #expect(whole.cachedTokenCount == ids.count)

        // The same sequence split into a 4-token prefill and single-token steps.
        var steps = try Interpreter(graph: model.graph, weights: model.weights, threads: 1)
        var collected = try #require(try steps.run(["tokens": .tokens(Array(ids[..<4]))], outputs: ["attention"])["attention"]).values
        for id in ids[4...] {
            let step = try #require(try steps.run(["tokens": .tokens([id])], outputs: ["last"])["last"])
            #expect(step.shape == [1, 16])
            collected += step.values
        }
        #expect(try #require(maxAbsoluteDifference(collected, expected)) < 1e-5)
    }

    @Test func rejectsBadTokensAndKeepsTheCache() throws {
        let model = try TinyAttentionModel(dtype: .float32)
        var interpreter = try Interpreter(graph: model.graph, weights: model.weights, threads: 1)
        _ = try interpreter.run(["tokens": .tokens([1, 2])], outputs: ["last"])
        #expect(throws: MVLMError.self) { try interpreter.run(["tokens": .tokens([1, 11])], outputs: ["last"]) }
        #expect(throws: MVLMError.self) { try interpreter.run(["tokens": .tokens([-1])], outputs: ["last"]) }
        #expect(throws: MVLMError.self) { try interpreter.run([:], outputs: ["last"]) }
        #expect(throws: MVLMError.self) { try interpreter.run(["tokens": .tokens([1])], outputs: ["nope"]) }
        #expect(interpreter.cachedTokenCount == 2)
        interpreter.resetCache()
        #expect(interpreter.cachedTokenCount == 0)
    }

    @Test func rejectsMissingOrMisshapedWeights() throws {
        let model = try TinyAttentionModel(dtype: .float32)
        var weights = model.weights
        weights["q"] = nil
        #expect(throws: MVLMError.self) { try Interpreter(graph: model.graph, weights: weights, threads: 1) }
        weights["q"] = try makeTensor([Float](repeating: 0, count: 16 * 15), shape: [16, 15], dtype: .float32)
        do {
            _ = try Interpreter(graph: model.graph, weights: weights, threads: 1)
            Issue.record("expected an error")
        } catch let error as MVLMError {
            #expect(error.description.contains("tensor 'q'"))
            #expect(error.description.contains("[16, 16]"))
        }
        weights["q"] = try makeTensor([Float](repeating: 0, count: 256), shape: [16, 16], dtype: .float16)
        #expect(throws: MVLMError.self) { try Interpreter(graph: model.graph, weights: weights, threads: 1) }
    }

    @Test func elementwiseReshapeConcat() throws {
        var g = GraphBuilder()
        let x = try g.input("x", TensorType(.float32, [.symbol("T"), .fixed(4)]))
        let y = try g.input("y", TensorType(.float32, [.symbol("T"), .fixed(4)]))
        let sum = try g.add(.add, [x, y])
        let product = try g.add(.mul, [x, y])
        let gated = try g.add(.siluMul, [x, y])
        let joined = try g.add(.concat(axis: 1), [sum, product])
        let reshaped = try g.add(.reshape([.symbol("T"), .fixed(2), .fixed(4)]), [joined])
        let cut = try g.add(.slice(axis: 1, start: 1, end: nil), [reshaped])
        g.output("gated", gated)
        g.output("cut", cut)
        g.output("gelu", try g.add(.gelu, [x]))
        var interpreter = try Interpreter(graph: try g.build(), weights: [:], threads: 1)
        let xs = Activation(shape: [2, 4], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let ys = Activation(shape: [2, 4], values: [2, 2, 2, 2, 0, 1, 0, 1])
        let result = try interpreter.run(["x": .floats(xs), "y": .floats(ys)], outputs: ["gated", "cut", "gelu"])
        #expect(result["cut"] == Activation(shape: [2, 1, 4], values: [2, 4, 6, 8, 0, 6, 0, 8]))
        let gatedValues = try #require(result["gated"]).values
        #expect(abs(gatedValues[0] - 2 * Kernels.silu(1)) < 1e-6)
        #expect(try #require(result["gelu"]).values[0] == Kernels.gelu(1))
        let mismatched = Activation(shape: [3, 4], values: [Float](repeating: 0, count: 12))
        #expect(throws: MVLMError.self) { try interpreter.run(["x": .floats(xs), "y": .floats(mismatched)], outputs: ["cut"]) }
    }
}
