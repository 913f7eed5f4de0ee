import MVLMCore
import Testing

@testable import MVLMGraph

@Suite struct GraphBuilderTests {
    /// A two-op graph: embedding then linear.
    func smallGraph() throws -> (GraphBuilder, Int) {
        var g = GraphBuilder()
        let ids = try g.input("tokens", TensorType(.int32, [.symbol("T")]))
        let table = try g.weight("embed", TensorType(.float16, shape: [10, 8]))
        let x = try g.add(.embedding, [table, ids], label: "embed")
        let w = try g.weight("proj", TensorType(.bfloat16, shape: [4, 8]))
        let y = try g.add(.linear, [x, w], label: "proj")
        g.output("y", y)
        return (g, y)
    }

    @Test func infersTypesAndDumpsOneOpPerLine() throws {
        let (g, y) = try smallGraph()
        #expect(g.type(of: y) == TensorType(.float32, [.symbol("T"), .fixed(4)]))
        let graph = try g.build()
        let lines = graph.description.split(separator: "\n").map(String.init)
        #expect(lines == [
            "%0 = input() {\"tokens\"} : i32[T]",
            "%1 = weight() {\"embed\"} : f16[10, 8]",
            "%2 = embedding(%1, %0) : f32[T, 8]  # embed",
            "%3 = weight() {\"proj\"} : bf16[4, 8]",
            "%4 = linear(%2, %3) : f32[T, 4]  # proj",
            "output \"y\" = %4 : f32[T, 4]",
        ])
        #expect(graph.weights.map(\.name) == ["embed", "proj"])
    }

    @Test func rejectsMismatchedLinear() throws {
        var (g, y) = try smallGraph()
        let w = try g.weight("bad", TensorType(.float32, shape: [4, 5]))
        #expect(throws: MVLMError.self) { try g.add(.linear, [y, w]) }
        let bias = try g.weight("bias", TensorType(.float32, shape: [3]))
        let good = try g.weight("w2", TensorType(.float32, shape: [2, 4]))
        #expect(throws: MVLMError.self) { try g.add(.linear, [y, good, bias]) }
    }

    @Test func rejectsNonFloatWeightsAndActivationDtypes() throws {
        var g = GraphBuilder()
        #expect(throws: MVLMError.self) { try g.weight("q", TensorType(.int8, shape: [4, 4])) }
        #expect(throws: MVLMError.self) { try g.weight("s", TensorType(.float32, [.symbol("T"), .fixed(4)])) }
        let ids = try g.input("tokens", TensorType(.int32, [.symbol("T")]))
        #expect(throws: MVLMError.self) { try g.add(.gelu, [ids]) }
        let half = try g.weight("w", TensorType(.float16, shape: [4]))
        #expect(throws: MVLMError.self) { try g.add(.add, [half, half]) }  // f16 is not an activation
    }

    @Test func parametersMustBeWeightNodes() throws {
        var g = GraphBuilder()
        let x = try g.input("x", TensorType(.float32, [.symbol("T"), .fixed(4)]))
        let matrix = try g.input("m", TensorType(.float32, shape: [3, 4]))
        #expect(throws: MVLMError.self) { try g.add(.linear, [x, matrix]) }
        let scale = try g.input("s", TensorType(.float32, shape: [4]))
        #expect(throws: MVLMError.self) { try g.add(.rmsNorm(epsilon: 1e-5), [x, scale]) }
    }

    @Test func attentionChecksHeads() throws {
        var g = GraphBuilder()
        let x = try g.input("x", TensorType(.float32, [.symbol("T"), .fixed(64)]))
        let kv = try g.input("kv", TensorType(.float32, [.symbol("T"), .fixed(32)]))
        let ok = AttentionParameters(heads: 4, keyValueHeads: 2, headDimension: 16, scale: 0.25, cacheSlot: 0)
        let out = try g.add(.attention(ok), [x, kv, kv])
        #expect(g.type(of: out) == TensorType(.float32, [.symbol("T"), .fixed(64)]))
        let badGroups = AttentionParameters(heads: 4, keyValueHeads: 3, headDimension: 16, scale: 0.25, cacheSlot: 1)
        #expect(throws: MVLMError.self) { try g.add(.attention(badGroups), [x, kv, kv]) }
        let badWidth = AttentionParameters(heads: 4, keyValueHeads: 4, headDimension: 16, scale: 0.25, cacheSlot: 1)
        #expect(throws: MVLMError.self) { try g.add(.attention(badWidth), [x, kv, kv]) }
    }

    @Test func reshapeConcatSliceShapes() throws {
        var g = GraphBuilder()
        let x = try g.input("x", TensorType(.float32, [.symbol("T"), .fixed(12)]))
        let r = try g.add(.reshape([.symbol("T"), .fixed(3), .fixed(4)]), [x])
        #expect(g.type(of: r).description == "f32[T, 3, 4]")
        #expect(throws: MVLMError.self) { try g.add(.reshape([.symbol("T"), .fixed(5)]), [x]) }
        let c = try g.add(.concat(axis: 1), [x, x])
        #expect(g.type(of: c).description == "f32[T, 24]")
        #expect(throws: MVLMError.self) { try g.add(.concat(axis: 0), [x, x]) }  // symbolic axis
        let last = try g.add(.slice(axis: 0, start: -1, end: nil), [x])
        #expect(g.type(of: last).description == "f32[1, 12]")
        let middle = try g.add(.slice(axis: 1, start: 2, end: -2), [x])
        #expect(g.type(of: middle).description == "f32[T, 8]")
        #expect(throws: MVLMError.self) { try g.add(.slice(axis: 1, start: 5, end: 20), [x]) }
    }

    @Test func verifyCatchesEditedTypes() throws {
        let (g, _) = try smallGraph()
        var graph = try g.build()
        graph.nodes[4].type = TensorType(.float32, [.symbol("T"), .fixed(5)])
        #expect(throws: MVLMError.self) { try graph.verify() }
        var forward = try g.build()
        forward.nodes[2].inputs = [3, 0]
        #expect(throws: MVLMError.self) { try forward.verify() }
    }

    @Test func sliceBounds() {
        #expect(SliceBounds.resolve(start: -1, end: nil, size: 5) == 4..<5)
        #expect(SliceBounds.resolve(start: 1, end: -1, size: 5) == 1..<4)
        #expect(SliceBounds.resolve(start: -6, end: nil, size: 5) == nil)
        #expect(SliceBounds.resolve(start: 3, end: 2, size: 5) == nil)
    }
}
