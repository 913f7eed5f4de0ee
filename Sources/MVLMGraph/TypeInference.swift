import MVLMCore

/// The output type of each operation given its input types; every shape and dtype rule of the IR
/// lives here, shared by `GraphBuilder` and `Graph.verify()`.
enum TypeInference {
    static let floatWeightTypes: Set<DType> = [.float32, .float16, .bfloat16]

    /// Weights are f32, f16, bf16, or packed blocks (quantized files); activations are always f32.
    static func isWeightType(_ dtype: DType) -> Bool {
        if case .block = dtype { return true }
        return floatWeightTypes.contains(dtype)
    }

    /// Input positions that must be `weight` nodes (kernels read them in their stored dtype).
    static func weightPositions(of operation: Operation) -> [Int] {
        switch operation {
        case .embedding: [0]
        case .rmsNorm: [1]
        case .layerNorm: [1, 2]
        case .linear: [1, 2]
        case .depthwiseConv2d: [1, 2]
        case .weightValues: [0]
        default: []
        }
    }

    /// Checks that the inputs at `weightPositions` are weight nodes.
    static func checkWeightInputs(of operation: Operation, inputs: [Operation], node: Int) throws {
        for position in weightPositions(of: operation) where position < inputs.count {
            guard case .weight = inputs[position] else {
                throw MVLMError(
                    .malformed, "input \(position) must be a weight node, not \(inputs[position].name)",
                    subject: "node %\(node) (\(operation.name))")
            }
        }
    }

    static func type(
        of operation: Operation, inputs: [TensorType], declared: TensorType?, node: Int
    ) throws -> TensorType {
        func fail(_ message: String) -> MVLMError {
            MVLMError(.malformed, message, subject: "node %\(node) (\(operation.name))")
        }
        func arity(_ counts: ClosedRange<Int>) throws {
            guard counts.contains(inputs.count) else {
                throw fail("takes \(counts.lowerBound == counts.upperBound ? "\(counts.lowerBound)" : "\(counts.lowerBound)-\(counts.upperBound)") inputs, got \(inputs.count)")
            }
        }
        func activation(_ index: Int, minimumRank: Int = 1) throws -> TensorType {
            let type = inputs[index]
            guard type.dtype == .float32 else { throw fail("input \(index) is \(type), expected f32") }
            guard type.rank >= minimumRank else {
                throw fail("input \(index) is \(type), expected rank >= \(minimumRank)")
            }
            return type
        }
        func weight(_ index: Int, rank: Int) throws -> TensorType {
            let type = inputs[index]
            guard isWeightType(type.dtype) else {
                throw fail("input \(index) is \(type), expected an f32, f16, bf16 or block-quantized weight")
            }
            guard type.rank == rank else { throw fail("input \(index) is \(type), expected rank \(rank)") }
            return type
        }
        func positive(_ value: Int, _ what: String) throws {
            guard value > 0 else { throw fail("\(what) must be positive, got \(value)") }
        }

        switch operation {
        case .input, .weight:
            try arity(0...0)
            guard let declared else { throw fail("needs a declared type") }
            for dimension in declared.dimensions {
                if let size = dimension.fixedValue, size < 0 { throw fail("negative dimension in \(declared)") }
            }
            if case .weight = operation {
                guard isWeightType(declared.dtype) else {
                    throw fail("weight type \(declared) is not f32, f16, bf16 or block-quantized")
                }
                guard declared.shape() != nil else { throw fail("weight type \(declared) has a symbolic dimension") }
            }
            return declared

        case .embedding:
            try arity(2...3)
            let table = try weight(0, rank: 2)
            let ids = inputs[1]
            guard ids.dtype == .int32, ids.rank == 1 else { throw fail("ids are \(ids), expected i32[T]") }
            if inputs.count == 3 {
                let rows = try activation(2)
                guard rows.rank == 2, rows.dimensions[1] == table.dimensions[1] else {
                    throw fail("spliced rows are \(rows), expected [R, \(table.dimensions[1])] to match the table \(table)")
                }
            }
            return TensorType(.float32, [ids.dimensions[0], table.dimensions[1]])

        case .rmsNorm, .layerNorm:
            let isLayerNorm = if case .layerNorm = operation { true } else { false }
            try arity(isLayerNorm ? 3...3 : 2...2)
            let x = try activation(0)
            for index in 1..<inputs.count {
                let parameter = try weight(index, rank: 1)
                guard parameter.dimensions[0] == x.dimensions.last else {
                    throw fail("input \(index) is \(parameter), expected [\(x.dimensions.last!)] to match \(x)")
                }
            }
            return x

        case .linear:
            try arity(2...3)
            let x = try activation(0)
            let w = try weight(1, rank: 2)
            guard w.dimensions[1] == x.dimensions.last else {
                throw fail("weight \(w) needs inputs [.., \(w.dimensions[1])], got \(x)")
            }
            if inputs.count == 3 {
                let bias = try weight(2, rank: 1)
                guard bias.dimensions[0] == w.dimensions[0] else {
                    throw fail("bias \(bias) does not match weight \(w) (expected [\(w.dimensions[0])])")
                }
            }
            return TensorType(.float32, x.dimensions.dropLast() + [w.dimensions[0]])

        case .rope(let rope):
            try arity(1...1)
            let x = try activation(0, minimumRank: 2)
            try positive(rope.headDimension, "head dimension")
            guard rope.headDimension % 2 == 0 else { throw fail("head dimension \(rope.headDimension) is odd") }
            guard rope.theta > 0, rope.theta.isFinite else { throw fail("theta \(rope.theta) must be positive") }
            guard x.rank == 2, let width = x.dimensions[1].fixedValue, width % rope.headDimension == 0 else {
                throw fail("input \(x) is not [T, heads * \(rope.headDimension)]")
            }
            return x

        case .attention(let p):
            try arity(3...3)
            try positive(p.heads, "heads")
            try positive(p.keyValueHeads, "key/value heads")
            try positive(p.headDimension, "head dimension")
            guard p.heads % p.keyValueHeads == 0 else {
                throw fail("\(p.heads) heads are not a multiple of \(p.keyValueHeads) key/value heads")
            }
            guard p.cacheSlot >= 0 else { throw fail("negative cache slot") }
            let q = try activation(0, minimumRank: 2)
            let k = try activation(1, minimumRank: 2)
            let v = try activation(2, minimumRank: 2)
            let tokens = q.dimensions[0]
            let queryWidth = Dimension.fixed(p.heads * p.headDimension)
            let keyWidth = Dimension.fixed(p.keyValueHeads * p.headDimension)
            guard q.dimensions == [tokens, queryWidth] else { throw fail("queries are \(q), expected [\(tokens), \(queryWidth)]") }
            guard k.dimensions == [tokens, keyWidth] else { throw fail("keys are \(k), expected [\(tokens), \(keyWidth)]") }
            guard v.dimensions == [tokens, keyWidth] else { throw fail("values are \(v), expected [\(tokens), \(keyWidth)]") }
            return q

        case .siluMul:
            try arity(2...2)
            let a = try activation(0, minimumRank: 0)
            let b = try activation(1, minimumRank: 0)
            guard a == b else { throw fail("inputs differ: \(a) and \(b)") }
            return a

        case .add, .mul:
            try arity(2...2)
            let a = try activation(0, minimumRank: 0)
            let b = try activation(1, minimumRank: 0)
            guard a.rank == b.rank,
                zip(a.dimensions, b.dimensions).allSatisfy({ $0 == $1 || $1 == .fixed(1) })
            else { throw fail("\(b) does not broadcast to \(a) (each dimension equal or 1)") }
            return a

        case .gelu, .quickGelu, .relu, .hardSwish, .hardSigmoid:
            try arity(1...1)
            return try activation(0, minimumRank: 0)

        case .encoderAttention(let heads, let headDimension, _):
            try arity(3...3)
            try positive(heads, "heads")
            try positive(headDimension, "head dimension")
            let q = try activation(0, minimumRank: 2)
            let width = Dimension.fixed(heads * headDimension)
            for index in 0..<3 {
                let x = try activation(index, minimumRank: 2)
                guard x.dimensions == [q.dimensions[0], width] else {
                    throw fail("input \(index) is \(x), expected [\(q.dimensions[0]), \(width)]")
                }
            }
            return q

        case .patchify(let patch):
            try arity(1...1)
            try positive(patch, "patch size")
            let x = try activation(0, minimumRank: 3)
            guard x.rank == 3, let shape = x.shape(), shape.allSatisfy({ $0 > 0 }),
                shape[1] % patch == 0, shape[2] % patch == 0
            else { throw fail("image \(x) is not a fixed [C, H, W] with H and W multiples of \(patch)") }
            return TensorType(
                .float32, shape: [(shape[1] / patch) * (shape[2] / patch), shape[0] * patch * patch])

        case .depthwiseConv2d(let window):
            try arity(2...3)
            if let problem = window.problem { throw fail(problem) }
            let x = try activation(0, minimumRank: 2)
            guard x.rank == 2, x.dimensions[0] == .fixed(window.height * window.width),
                let channels = x.dimensions[1].fixedValue
            else { throw fail("input \(x) is not the [\(window.height * window.width), C] grid \(window.height)x\(window.width)") }
            let w = try weight(1, rank: 4)
            guard w.shape() == [channels, 1, window.kernel, window.kernel] else {
                throw fail("weight \(w) is not [\(channels), 1, \(window.kernel), \(window.kernel)]")
            }
            if inputs.count == 3 {
                let bias = try weight(2, rank: 1)
                guard bias.dimensions[0] == .fixed(channels) else { throw fail("bias \(bias) is not [\(channels)]") }
            }
            return TensorType(.float32, shape: [window.outputHeight * window.outputWidth, channels])

        case .averagePool2d(let window):
            try arity(1...1)
            if let problem = window.problem { throw fail(problem) }
            guard window.padding == 0 else { throw fail("average pooling takes no padding") }
            let x = try activation(0, minimumRank: 2)
            guard x.rank == 2, x.dimensions[0] == .fixed(window.height * window.width) else {
                throw fail("input \(x) is not the [\(window.height * window.width), C] grid \(window.height)x\(window.width)")
            }
            return TensorType(.float32, [.fixed(window.outputHeight * window.outputWidth), x.dimensions[1]])

        case .meanRows:
            try arity(1...1)
            let x = try activation(0, minimumRank: 2)
            guard x.rank == 2 else { throw fail("input \(x) is not [N, C]") }
            return TensorType(.float32, [.fixed(1), x.dimensions[1]])

        case .weightValues:
            try arity(1...1)
            let w = inputs[0]
            guard floatWeightTypes.contains(w.dtype) else {
                throw fail("input \(w) must be an f32, f16 or bf16 weight (block-quantized weights are read by linear only)")
            }
            return TensorType(.float32, w.dimensions)

        case .reshape(let dimensions):
            try arity(1...1)
            let x = try activation(0, minimumRank: 0)
            guard let from = ElementCount(x.dimensions), let to = ElementCount(dimensions), from == to else {
                throw fail("cannot reshape \(x) to [\(dimensions.map(\.description).joined(separator: ", "))]: element counts differ")
            }
            return TensorType(.float32, dimensions)

        case .concat(let axis):
            guard !inputs.isEmpty else { throw fail("needs at least one input") }
            let first = try activation(0)
            guard (0..<first.rank).contains(axis) else { throw fail("axis \(axis) out of range for \(first)") }
            var total = 0
            for index in inputs.indices {
                let x = try activation(index)
                guard x.rank == first.rank else { throw fail("input \(index) is \(x), rank differs from \(first)") }
                for dim in 0..<x.rank where dim != axis && x.dimensions[dim] != first.dimensions[dim] {
                    throw fail("input \(index) is \(x), dimension \(dim) differs from \(first)")
                }
                guard let size = x.dimensions[axis].fixedValue else {
                    throw fail("concatenation axis of \(x) must be fixed")
                }
                let (sum, overflow) = total.addingReportingOverflow(size)
                guard !overflow else { throw fail("concatenated size overflows") }
                total = sum
            }
            var dimensions = first.dimensions
            dimensions[axis] = .fixed(total)
            return TensorType(.float32, dimensions)

        case .slice(let axis, let start, let end):
            try arity(1...1)
            let x = try activation(0)
            guard (0..<x.rank).contains(axis) else { throw fail("axis \(axis) out of range for \(x)") }
            let length: Int
            if let size = x.dimensions[axis].fixedValue {
                guard let range = SliceBounds.resolve(start: start, end: end, size: size) else {
                    throw fail("range \(start)..<\(end.map(String.init) ?? "end") is outside axis of size \(size)")
                }
                length = range.count
            } else if start < 0, end == nil {
                length = -start  // the last `-start` elements; checked at run time
            } else if start >= 0, let end, end >= start {
                length = end - start
            } else {
                throw fail("range \(start)..<\(end.map(String.init) ?? "end") on symbolic axis \(x.dimensions[axis]) has no static length")
            }
            var dimensions = x.dimensions
            dimensions[axis] = .fixed(length)
            return TensorType(.float32, dimensions)
        }
    }
}

/// An element count with symbols: the product of the fixed sizes and the multiset of symbols.
struct ElementCount: Equatable {
    var product: Int
    var symbols: [String]

    init?(_ dimensions: [Dimension]) {
        product = 1
        symbols = []
        for dimension in dimensions {
            switch dimension {
            case .fixed(let size):
                guard size >= 0 else { return nil }
                let (value, overflow) = product.multipliedReportingOverflow(by: size)
                guard !overflow else { return nil }
                product = value
            case .symbol(let name):
                symbols.append(name)
            }
        }
        symbols.sort()
    }
}
