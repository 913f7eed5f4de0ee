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
    /// Whether products with Q8_0 / INT8_B32 weights quantize a matrix of activations to 8 bits per
    /// block of 32 and run through the integer GEMM (as Q4_0/Q4_K/Q6_K always do), instead of
    /// keeping f32 activations. On for the vision encoder (its 8-bit tower: docs/vision.md), off
    /// for the decoder, whose 8-bit weights are chosen for accuracy.
    public var eightBitActivations = false

    let tensors: [Int: Tensor]
    let vectors: [Int: [Float]]
    let frequencies: [Int: [Float]]
    private let cacheWidths: [Int]
    var cache: KeyValueCache

    /// Seconds per operation of the last run, printed to stderr when `MVLM_PROFILE=1`.
    private var profile: [String: Double] = [:]
    /// Seconds of the last run by part (`ProfilePart`), recorded when `MVLM_PROFILE=1` (empty otherwise).
    public private(set) var lastRunParts: [String: Double] = [:]
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
        var parts: [String: Double] = [:]

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
            if Self.profiling {
                let seconds = Self.clock() - started
                profile[node.operation.name, default: 0] += seconds
                parts[ProfilePart(node).rawValue, default: 0] += seconds
            }
            for input in node.inputs where lastUse[input] == node.id { values[input] = nil }
        }
        if Self.profiling {
            let total = profile.values.reduce(0, +)
            let lines = profile.sorted { $0.value > $1.value }.map { String(format: "  %-20@ %9.3f ms", $0.key as NSString, $0.value * 1000) }
            FileHandle.standardError.write(Data(("profile (MVLM_PROFILE=1), \(String(format: "%.3f", total * 1000)) ms:\n" + lines.joined(separator: "\n") + "\n").utf8))
            profile.removeAll()
        }
        lastRunParts = parts
        cachedTokenCount = past + newTokens
        var result: [String: Activation] = [:]
        for (name, id) in requested { result[name] = values[id] }
        return result
    }

    // MARK: One node

    /// Computes one node by handing it to its operation family (one `Interpreter+Family.swift` each).
    private mutating func compute(
        _ node: Node, values: [Activation?], tokens: [Int: [Int32]], past: Int, newTokens: Int,
        bindings: [String: Int]
    ) throws -> Activation {
        let step = NodeStep(node: node, values: values, tokens: tokens, past: past, newTokens: newTokens, bindings: bindings)
        switch node.operation {
        case .input, .weight:
            preconditionFailure("inputs and weights are not computed")
        case .embedding, .rope, .attention:
            return try computeDecoder(step)
        case .rmsNorm, .layerNorm:
            return try computeNormalization(step)
        case .linear:
            return try computeLinear(step)
        case .siluMul, .add, .mul, .gelu, .quickGelu, .relu, .hardSwish, .hardSigmoid:
            return try computeElementwise(step)
        case .encoderAttention, .patchify, .depthwiseConv2d, .averagePool2d, .meanRows, .weightValues:
            return try computeVision(step)
        case .reshape, .concat, .slice:
            return try computeLayout(step)
        }
    }
}
