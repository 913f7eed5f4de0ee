#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import CMVLMKernels
import MVLMCore
import MVLMGraph

/// Executes a `Graph` on the CPU in f32, keeping a key/value cache between calls.
///
/// Weights stay in their checkpoint dtype as zero-copy views into the mapped file; matrix kernels
/// widen f16/bf16 a row or a tile at a time. Only 1-D weights (norm scales, biases) are widened
/// once, at creation. Each `run` processes all its tokens together (a prompt is one
/// matrix-matrix pass), appending to the cache, so a generation is one `run` with the prompt then
/// one `run` per new token.
public struct Interpreter: Sendable {
    /// The graph being executed (verified at creation).
    public let graph: Graph
    /// Worker threads for the kernels.
    public let threads: Int
    /// Tokens already in the key/value cache; the next token gets this position.
    public private(set) var cachedTokenCount = 0

    private let tensors: [Int: Tensor]
    private let vectors: [Int: [Float]]
    private let frequencies: [Int: [Float]]
    private let cacheWidths: [Int]
    private var cache: KeyValueCache

    /// Seconds per operation of the last run, printed to stderr when `MVLM_PROFILE=1`.
    private var profile: [String: Double] = [:]
    static let profiling = ProcessInfo.processInfo.environment["MVLM_PROFILE"] == "1"

    /// Seconds on the monotonic clock.
    public static func clock() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// The number of processor cores online.
    public static var processorCount: Int { max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1) }

    /// Checks `graph` and binds every weight node to the tensor of that name.
    /// - Parameters:
    ///   - weights: tensors by name; each must have exactly the dtype and shape its weight node
    ///     declares. Strided views are made contiguous (in their own dtype).
    ///   - threads: kernel threads (default: all cores).
    /// - Throws: `MVLMError` naming the tensor for a missing or mismatched weight, or the node for
    ///   a graph that does not verify.
    /// The weight bound to graph node `id` (a `.weight` node), as the kernels read it.
    func weight(node id: Int) -> Tensor? { tensors[id] }

    public init(graph: Graph, weights: [String: Tensor], threads: Int = Interpreter.processorCount) throws {
        try graph.verify()
        guard threads >= 1 else { throw MVLMError(.invalidArgument, "threads must be at least 1, got \(threads)") }
        self.graph = graph
        self.threads = threads
        var tensors: [Int: Tensor] = [:]
        var vectors: [Int: [Float]] = [:]
        var frequencies: [Int: [Float]] = [:]
        var slots = 0
        for node in graph.nodes {
            switch node.operation {
            case .weight(let name):
                guard let tensor = weights[name] else {
                    throw MVLMError(.notFound, "missing; the graph needs \(node.type)", subject: "tensor '\(name)'")
                }
                let expected = node.type.shape()!
                guard tensor.dtype == node.type.dtype, tensor.shape == expected else {
                    throw MVLMError(
                        .malformed,
                        "is \(tensor.dtype.name.lowercased())\(Shape.describe(tensor.shape)), expected \(node.type)",
                        subject: "tensor '\(name)'")
                }
                // A rows16 matrix stays as stored: the linear kernels read it in place (any other
                // reader gets row-major bytes from `withUnsafeBytes`).
                let contiguous = tensor.layout == .rows16 ? tensor : tensor.contiguous()
                tensors[node.id] = contiguous
                if expected.count == 1 {
                    vectors[node.id] = try contiguous.apply(WholeWiden(count: contiguous.elementCount))
                }
            case .rope(let rope):
                frequencies[node.id] = rope.inverseFrequencies()
            case .attention(let parameters):
                slots = max(slots, parameters.cacheSlot + 1)
            default:
                break
            }
        }
        // Weights that vision kernels read whole, widened once: depthwise filters and learned
        // embeddings used as activations.
        for node in graph.nodes {
            let widened: Int? = switch node.operation {
            case .depthwiseConv2d: node.inputs[1]
            case .weightValues: node.inputs[0]
            default: nil
            }
            if let widened, vectors[widened] == nil, let tensor = tensors[widened] {
                vectors[widened] = try tensor.apply(WholeWiden(count: tensor.elementCount))
            }
        }
        var widths = [Int](repeating: 0, count: slots)
        for node in graph.nodes {
            if case .attention(let p) = node.operation {
                guard widths[p.cacheSlot] == 0 else {
                    throw MVLMError(.malformed, "cache slot \(p.cacheSlot) is used by two attention nodes", subject: "node %\(node.id) (attention)")
                }
                widths[p.cacheSlot] = p.keyValueHeads * p.headDimension
            }
        }
        self.tensors = tensors
        self.vectors = vectors
        self.frequencies = frequencies
        self.cacheWidths = widths
        self.cache = KeyValueCache(slots: slots)
    }

    /// Empties the key/value cache (the next run starts at position 0).
    public mutating func resetCache() {
        cache.removeAll()
        cachedTokenCount = 0
    }

    /// Bytes held by the key/value cache.
    public var cacheByteCount: Int { cache.byteCount }

    /// Runs the graph on `inputs` and returns the requested outputs.
    ///
    /// Only the nodes the requested outputs need are computed, plus every attention node, so the
    /// cache always advances by the number of new tokens. On error the cache is left as before.
    /// - Parameters:
    ///   - inputs: a value for every graph input; symbolic dimensions are bound from their shapes.
    ///   - outputs: names of graph outputs to return.
    /// - Throws: `MVLMError` (`.invalidArgument`) for a missing input, a shape that disagrees with
    ///   the graph, a token id outside the embedding table, or an unknown output.
    ///   - observer: when given, called with every `linear` node's weight name and input
    ///     activations before the product (calibration gathers activation statistics this way).
    public mutating func run(
        _ inputs: [String: InputValue], outputs: [String], observer: LinearInputObserver? = nil
    ) throws -> [String: Activation] {
        let past = cachedTokenCount
        do {
            let result = try evaluate(inputs, outputs: outputs, past: past, observer: observer)
            return result
        } catch {
            cache.truncate(rows: past, widths: cacheWidths)
            cachedTokenCount = past
            throw error
        }
    }

    private mutating func evaluate(
        _ inputs: [String: InputValue], outputs: [String], past: Int, observer: LinearInputObserver?
    ) throws -> [String: Activation] {
        let nodes = graph.nodes
        // Bind symbols from the inputs.
        var bindings: [String: Int] = [:]
        var tokenValues: [Int: [Int32]] = [:]
        var values = [Activation?](repeating: nil, count: nodes.count)
        for (name, type) in graph.inputs {
            guard let value = inputs[name] else {
                throw MVLMError(.invalidArgument, "input \"\(name)\" (\(type)) was not given")
            }
            let shape = value.shape
            guard shape.count == type.rank else {
                throw MVLMError(.invalidArgument, "input \"\(name)\" has shape \(Shape.describe(shape)), expected \(type)")
            }
            for (dimension, size) in zip(type.dimensions, shape) {
                let mismatch: Bool
                switch dimension {
                case .fixed(let expected):
                    mismatch = expected != size
                case .symbol(let symbol):
                    mismatch = bindings[symbol].map { $0 != size } ?? false
                    bindings[symbol] = size
                }
                if mismatch {
                    throw MVLMError(.invalidArgument, "input \"\(name)\" has shape \(Shape.describe(shape)), expected \(type)")
                }
            }
            let id = nodes.first { $0.operation == .input(name: name) }!.id
            switch value {
            case .tokens(let ids):
                guard type.dtype == .int32 else { throw MVLMError(.invalidArgument, "input \"\(name)\" needs \(type), got token ids") }
                tokenValues[id] = ids
            case .floats(let activation):
                guard type.dtype == .float32 else { throw MVLMError(.invalidArgument, "input \"\(name)\" needs \(type), got floats") }
                values[id] = activation
            }
        }
        let newTokens = bindings["T"] ?? 0

        // Which nodes to compute, and when each value is last read.
        var needed = [Bool](repeating: false, count: nodes.count)
        var requested: [(String, Int)] = []
        for name in outputs {
            guard let id = graph.output(named: name) else {
                throw MVLMError(.invalidArgument, "the graph has no output \"\(name)\" (it has \(graph.outputs.map(\.name).joined(separator: ", ")))")
            }
            requested.append((name, id))
            needed[id] = true
        }
        for node in nodes { if case .attention = node.operation { needed[node.id] = true } }
        for id in nodes.indices.reversed() where needed[id] {
            for input in nodes[id].inputs { needed[input] = true }
        }
        var lastUse = [Int](repeating: -1, count: nodes.count)
        for node in nodes where needed[node.id] {
            for input in node.inputs { lastUse[input] = node.id }
        }
        for (_, id) in requested { lastUse[id] = Int.max }

        for node in nodes where needed[node.id] {
            switch node.operation {
            case .input, .weight:
                continue
            default:
                break
            }
            if let observer, case .linear = node.operation, case .weight(let name) = nodes[node.inputs[1]].operation {
                observer.observe(weight: name, input: values[node.inputs[0]]!)
            }
            let started = Self.profiling ? Self.clock() : 0
            values[node.id] = try compute(
                node, values: values, tokens: tokenValues, past: past, newTokens: newTokens, bindings: bindings)
            if Self.profiling { profile[node.operation.name, default: 0] += Self.clock() - started }
            for input in node.inputs where lastUse[input] == node.id { values[input] = nil }
        }
        if Self.profiling {
            let total = profile.values.reduce(0, +)
            let lines = profile.sorted { $0.value > $1.value }.map { String(format: "  %-20@ %9.3f ms", $0.key as NSString, $0.value * 1000) }
            FileHandle.standardError.write(Data(("profile (MVLM_PROFILE=1), \(String(format: "%.3f", total * 1000)) ms:\n" + lines.joined(separator: "\n") + "\n").utf8))
            profile.removeAll()
        }
        cachedTokenCount = past + newTokens
        var result: [String: Activation] = [:]
        for (name, id) in requested { result[name] = values[id] }
        return result
    }

    // MARK: One node

    private mutating func compute(
        _ node: Node, values: [Activation?], tokens: [Int: [Int32]], past: Int, newTokens: Int,
        bindings: [String: Int]
    ) throws -> Activation {
        func fail(_ message: String) -> MVLMError {
            MVLMError(.invalidArgument, message, subject: "node %\(node.id) (\(node.operation.name))\(node.label.isEmpty ? "" : " \(node.label)")")
        }
        func value(_ index: Int) -> Activation { values[node.inputs[index]]! }
        let threads = self.threads

        switch node.operation {
        case .input, .weight:
            preconditionFailure("inputs and weights are not computed")

        case .embedding:
            let table = tensors[node.inputs[0]]!
            let ids = tokens[node.inputs[1]]!
            let rows = table.shape[0], width = table.shape[1]
            let spliced = node.inputs.count == 3 ? value(2) : nil
            var indices: [Int] = []
            var textPositions: [Int] = []
            indices.reserveCapacity(ids.count)
            textPositions.reserveCapacity(ids.count)
            var splicedCount = 0
            for (position, id) in ids.enumerated() {
                if id < 0, spliced != nil {
                    splicedCount += 1
                    continue
                }
                guard id >= 0, Int(id) < rows else { throw fail("token id \(id) is outside the vocabulary 0..<\(rows)") }
                indices.append(Int(id))
                textPositions.append(position)
            }
            if let spliced, spliced.shape[0] != splicedCount {
                throw fail("the prompt has \(splicedCount) image positions (negative ids) but \(spliced.shape[0]) image rows were given")
            }
            var gathered = [Float](repeating: 0, count: indices.count * width)
            try gathered.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                try table.apply(RowGather(rows: indices, width: width, output: base))
            }
            guard let spliced else { return Activation(shape: [ids.count, width], values: gathered) }
            var output = [Float](repeating: 0, count: ids.count * width)
            var text = 0, image = 0
            for position in 0..<ids.count {
                let target = position * width
                if text < textPositions.count, textPositions[text] == position {
                    output.replaceSubrange(target..<(target + width), with: gathered[(text * width)..<((text + 1) * width)])
                    text += 1
                } else {
                    output.replaceSubrange(target..<(target + width), with: spliced.values[(image * width)..<((image + 1) * width)])
                    image += 1
                }
            }
            return Activation(shape: [ids.count, width], values: output)

        case .rmsNorm(let epsilon):
            let x = value(0)
            let weight = vectors[node.inputs[1]]!
            let width = x.lastDimension
            var output = [Float](repeating: 0, count: x.values.count)
            x.values.withUnsafeBufferPointer { xs in
                weight.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { y in
                        guard let yb = y.baseAddress else { return }
                        Kernels.rmsNorm(xs.baseAddress!, rows: x.rowCount, width: width, weight: w.baseAddress!, epsilon: epsilon, into: yb, threads: threads)
                    }
                }
            }
            return Activation(shape: x.shape, values: output)

        case .layerNorm(let epsilon):
            let x = value(0)
            let weight = vectors[node.inputs[1]]!
            let bias = vectors[node.inputs[2]]!
            var output = [Float](repeating: 0, count: x.values.count)
            x.values.withUnsafeBufferPointer { xs in
                weight.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        output.withUnsafeMutableBufferPointer { y in
                            guard let yb = y.baseAddress else { return }
                            Kernels.layerNorm(xs.baseAddress!, rows: x.rowCount, width: x.lastDimension, weight: w.baseAddress!, bias: b.baseAddress!, epsilon: epsilon, into: yb, threads: threads)
                        }
                    }
                }
            }
            return Activation(shape: x.shape, values: output)

        case .linear:
            let x = value(0)
            let weight = tensors[node.inputs[1]]!
            let bias = node.inputs.count == 3 ? vectors[node.inputs[2]]! : nil
            let outputsCount = weight.shape[0], inputsCount = weight.shape[1]
            let rows = x.rowCount
            var output = [Float](repeating: 0, count: rows * outputsCount)
            try x.values.withUnsafeBufferPointer { xs in
                try output.withUnsafeMutableBufferPointer { y in
                    guard let yb = y.baseAddress, let xb = xs.baseAddress else { return }
                    func run(_ biasPointer: UnsafePointer<Float>?) throws {
                        if QuantizedMatVec.applies(to: weight, tokens: rows) {
                            QuantizedMatVec.run(weight: weight, x: xb, tokens: rows, bias: biasPointer, y: yb, threads: threads)
                            return
                        }
                        try weight.apply(LinearKernel(
                            x: xb, tokens: rows, inputs: inputsCount, outputs: outputsCount,
                            bias: biasPointer, y: yb, threads: threads))
                    }
                    if let bias {
                        try bias.withUnsafeBufferPointer { try run($0.baseAddress) }
                    } else {
                        try run(nil)
                    }
                }
            }
            return Activation(shape: Array(x.shape.dropLast()) + [outputsCount], values: output)

        case .rope(let rope):
            var x = value(0)
            let inverse = frequencies[node.id]!
            let rows = x.rowCount, width = x.lastDimension
            x.values.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                Kernels.rope(
                    base, tokens: rows, width: width, firstPosition: past, inverseFrequencies: inverse,
                    headDimension: rope.headDimension, interleaved: rope.interleaved)
            }
            return x

        case .attention(let p):
            let q = value(0), k = value(1), v = value(2)
            let rows = q.shape[0]
            guard rows == newTokens, k.shape[0] == rows, v.shape[0] == rows else {
                throw fail("attention over \(rows) rows, but this call adds \(newTokens) tokens")
            }
            cache.keys[p.cacheSlot].append(contentsOf: k.values)
            cache.values[p.cacheSlot].append(contentsOf: v.values)
            var output = [Float](repeating: 0, count: q.values.count)
            q.values.withUnsafeBufferPointer { qs in
                cache.keys[p.cacheSlot].withUnsafeBufferPointer { keys in
                    cache.values[p.cacheSlot].withUnsafeBufferPointer { cachedValues in
                        output.withUnsafeMutableBufferPointer { out in
                            guard let o = out.baseAddress else { return }
                            if rows >= AttentionKernel.minimumRows && NativeKernels.isEnabled {
                                // Both products as matrix multiplications (C kernels).
                                AttentionKernel.run(
                                    q: qs.baseAddress!, keys: keys.baseAddress!, values: cachedValues.baseAddress!,
                                    output: o, tokens: rows, past: past, parameters: p, causal: true, threads: threads)
                            } else if NativeKernels.isEnabled {
                                // Decode: vector dot products per (token, head) in C.
                                AttentionKernel.runRows(
                                    q: qs.baseAddress!, keys: keys.baseAddress!, values: cachedValues.baseAddress!,
                                    output: o, tokens: rows, past: past, parameters: p, causal: true, threads: threads)
                            } else {
                                Kernels.attention(
                                    q: qs.baseAddress!, keys: keys.baseAddress!, values: cachedValues.baseAddress!,
                                    output: o, tokens: rows, past: past, parameters: p, threads: threads)
                            }
                        }
                    }
                }
            }
            return Activation(shape: q.shape, values: output)

        case .siluMul:
            let g = value(0), u = value(1)
            if NativeKernels.isEnabled && g.shape == u.shape {
                // SwiGLU in C (vector exp); the Swift closure below is the reference.
                return sameShape(g, u) { out, up in mvlm_silu_mul(out.baseAddress!, up.baseAddress!, out.baseAddress!, Int64(out.count)) }
            }
            return binary(g, u) { g, u in Kernels.silu(g) * u }
        case .add:
            return binary(value(0), value(1)) { $0 + $1 }
        case .mul:
            return binary(value(0), value(1)) { $0 * $1 }
        case .gelu:
            return unary(value(0)) { Kernels.gelu($0) }
        case .quickGelu:
            var output = value(0).values
            output.withUnsafeMutableBufferPointer { buffer in
                let box = UncheckedSendable(buffer)
                Kernels.elementwise(count: buffer.count, threads: threads) { range in
                    let part = UnsafeMutableBufferPointer(rebasing: box.value[range])
                    if NativeKernels.isEnabled, let base = part.baseAddress {
                        // In C (vector exp at every level, NEON too); the Swift SIMD path is the reference.
                        mvlm_quick_gelu(base, base, Int64(part.count))
                    } else {
                        VisionKernels.quickGelu(part)
                    }
                }
            }
            return Activation(shape: value(0).shape, values: output)
        case .relu:
            return unary(value(0)) { max($0, 0) }
        case .hardSwish:
            return unary(value(0)) { VisionKernels.hardSwish($0) }
        case .hardSigmoid:
            return unary(value(0)) { VisionKernels.hardSigmoid($0) }

        case .encoderAttention(let heads, let headDimension, let scale):
            let q = value(0), k = value(1), v = value(2)
            let rows = q.shape[0]
            var output = [Float](repeating: 0, count: q.values.count)
            q.values.withUnsafeBufferPointer { qs in
                k.values.withUnsafeBufferPointer { ks in
                    v.values.withUnsafeBufferPointer { vs in
                        output.withUnsafeMutableBufferPointer { out in
                            guard let o = out.baseAddress else { return }
                            if !NativeKernels.isEnabled {
                                VisionKernels.encoderAttention(
                                    q: qs.baseAddress!, k: ks.baseAddress!, v: vs.baseAddress!, output: o, tokens: rows,
                                    heads: heads, headDimension: headDimension, scale: scale, threads: threads)
                            } else {
                                AttentionKernel.run(
                                    q: qs.baseAddress!, keys: ks.baseAddress!, values: vs.baseAddress!, output: o, tokens: rows, past: 0,
                                    parameters: AttentionParameters(
                                        heads: heads, keyValueHeads: heads, headDimension: headDimension, scale: scale, cacheSlot: 0),
                                    causal: false, threads: threads)
                            }
                        }
                    }
                }
            }
            return Activation(shape: q.shape, values: output)

        case .patchify(let patch):
            let x = value(0)
            let shape = node.type.shape()!
            var output = [Float](repeating: 0, count: shape[0] * shape[1])
            x.values.withUnsafeBufferPointer { xs in
                output.withUnsafeMutableBufferPointer { out in
                    VisionKernels.patchify(
                        xs.baseAddress!, channels: x.shape[0], height: x.shape[1], width: x.shape[2], patch: patch,
                        into: out.baseAddress!)
                }
            }
            return Activation(shape: shape, values: output)

        case .depthwiseConv2d(let window):
            let x = value(0)
            let channels = x.shape[1]
            let weight = vectors[node.inputs[1]]!
            let bias = node.inputs.count == 3 ? vectors[node.inputs[2]]! : nil
            let positions = window.outputHeight * window.outputWidth
            var output = [Float](repeating: 0, count: positions * channels)
            x.values.withUnsafeBufferPointer { xs in
                weight.withUnsafeBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { out in
                        func run(_ b: UnsafePointer<Float>?) {
                            VisionKernels.depthwiseConv2d(
                                xs.baseAddress!, channels: channels, window: window, weight: w.baseAddress!, bias: b,
                                into: out.baseAddress!, threads: threads)
                        }
                        if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
                    }
                }
            }
            return Activation(shape: [positions, channels], values: output)

        case .averagePool2d(let window):
            let x = value(0)
            let channels = x.shape[1]
            let positions = window.outputHeight * window.outputWidth
            var output = [Float](repeating: 0, count: positions * channels)
            x.values.withUnsafeBufferPointer { xs in
                output.withUnsafeMutableBufferPointer { out in
                    VisionKernels.averagePool2d(xs.baseAddress!, channels: channels, window: window, into: out.baseAddress!)
                }
            }
            return Activation(shape: [positions, channels], values: output)

        case .meanRows:
            let x = value(0)
            let channels = x.shape[1]
            var output = [Float](repeating: 0, count: channels)
            x.values.withUnsafeBufferPointer { xs in
                output.withUnsafeMutableBufferPointer { out in
                    VisionKernels.meanRows(xs.baseAddress!, rows: x.shape[0], channels: channels, into: out.baseAddress!)
                }
            }
            return Activation(shape: [1, channels], values: output)

        case .weightValues:
            return Activation(shape: node.type.shape()!, values: vectors[node.inputs[0]]!)

        case .reshape:
            let x = value(0)
            guard let shape = node.type.shape(bindings), shape.reduce(1, *) == x.values.count else {
                throw fail("cannot reshape \(Shape.describe(x.shape)) to \(node.type)")
            }
            return Activation(shape: shape, values: x.values)

        case .concat(let axis):
            let parts = node.inputs.indices.map { value($0) }
            var shape = parts[0].shape
            shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
            let outer = shape[..<axis].reduce(1, *)
            var output: [Float] = []
            output.reserveCapacity(shape.reduce(1, *))
            for o in 0..<outer {
                for part in parts {
                    let run = part.shape[axis...].reduce(1, *)
                    output.append(contentsOf: part.values[(o * run)..<((o + 1) * run)])
                }
            }
            return Activation(shape: shape, values: output)

        case .slice(let axis, let start, let end):
            let x = value(0)
            guard let range = SliceBounds.resolve(start: start, end: end, size: x.shape[axis]) else {
                throw fail("range \(start)..<\(end.map(String.init) ?? "end") is outside axis \(axis) of \(Shape.describe(x.shape))")
            }
            var shape = x.shape
            shape[axis] = range.count
            let outer = x.shape[..<axis].reduce(1, *)
            let inner = x.shape[(axis + 1)...].reduce(1, *)
            var output: [Float] = []
            output.reserveCapacity(shape.reduce(1, *))
            for o in 0..<outer {
                let base = (o * x.shape[axis] + range.lowerBound) * inner
                output.append(contentsOf: x.values[base..<(base + range.count * inner)])
            }
            return Activation(shape: shape, values: output)
        }
    }

    private func unary(_ x: Activation, _ f: @escaping (Float) -> Float) -> Activation {
        var output = x.values
        output.withUnsafeMutableBufferPointer { buffer in
            let box = UncheckedSendable(buffer)
            Kernels.elementwise(count: buffer.count, threads: threads) { range in
                for i in range { box.value[i] = f(box.value[i]) }
            }
        }
        return Activation(shape: x.shape, values: output)
    }

    private func binary(_ a: Activation, _ b: Activation, _ f: @escaping (Float, Float) -> Float) -> Activation {
        if a.shape != b.shape { return broadcast(a, b, f) }
        return sameShape(a, b) { out, other in
            for i in out.indices { out[i] = f(out[i], other[i]) }
        }
    }

    /// A copy of `a` that `body` updates from `b` (same shape) in place, slice by slice:
    /// `body(out[range], b[range])` over disjoint ranges, from up to `threads` threads.
    private func sameShape(
        _ a: Activation, _ b: Activation,
        _ body: @escaping (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void
    ) -> Activation {
        var output = a.values
        output.withUnsafeMutableBufferPointer { buffer in
            b.values.withUnsafeBufferPointer { other in
                let box = UncheckedSendable((buffer, other))
                Kernels.elementwise(count: buffer.count, threads: threads) { range in
                    let (out, other) = box.value
                    body(UnsafeMutableBufferPointer(rebasing: out[range]), UnsafeBufferPointer(rebasing: other[range]))
                }
            }
        }
        return Activation(shape: a.shape, values: output)
    }

    /// `f(a, b)` with `b` broadcast along its size-1 dimensions (type inference checked the shapes).
    private func broadcast(_ a: Activation, _ b: Activation, _ f: (Float, Float) -> Float) -> Activation {
        var output = a.values
        let rank = a.shape.count
        if rank >= 1, b.shape.dropLast().allSatisfy({ $0 == 1 }), b.shape.last == a.shape.last {
            // [.., C] with [1, .., C]: one row of b against every row of a.
            let width = a.lastDimension
            for row in 0..<a.rowCount {
                for c in 0..<width { output[row * width + c] = f(output[row * width + c], b.values[c]) }
            }
            return Activation(shape: a.shape, values: output)
        }
        var bStrides = [Int](repeating: 0, count: rank)
        var stride = 1
        for axis in (0..<rank).reversed() {
            bStrides[axis] = b.shape[axis] == 1 ? 0 : stride
            stride *= b.shape[axis]
        }
        for index in output.indices {
            var rest = index, offset = 0
            for axis in (0..<rank).reversed() {
                let coordinate = rest % a.shape[axis]
                rest /= a.shape[axis]
                offset += coordinate * bStrides[axis]
            }
            output[index] = f(output[index], b.values[offset])
        }
        return Activation(shape: a.shape, values: output)
    }
}
