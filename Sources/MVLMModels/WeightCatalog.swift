import MVLMCore
import MVLMQuant
import MVLMGraph

/// The checkpoint's tensor table as an architecture builder sees it: builders declare each weight
/// they need with its expected shape; the catalog checks it exists with that shape and a float
/// dtype, adds the weight node, and remembers which tensors were used.
public struct WeightCatalog: Sendable {
    private let infos: [TensorInfo]
    private let byName: [String: TensorInfo]
    public private(set) var used: [String] = []
    /// Tensors the graph reads with another shape than stored (a `[O, C, k, k]` filter read as the
    /// matrix `[O, C k k]`), by name: bind `tensor.reshaped(views[name]!)`.
    public private(set) var views: [String: [Int]] = [:]
    private var usedSet = Set<String>()

    /// - Parameter infos: every tensor of the checkpoint, in file order.
    public init(infos: [TensorInfo]) {
        self.infos = infos
        var byName: [String: TensorInfo] = [:]
        for info in infos where byName[info.name] == nil { byName[info.name] = info }
        self.byName = byName
    }

    /// True when the checkpoint has a tensor called `name`.
    public func contains(_ name: String) -> Bool { byName[name] != nil }

    /// The stored shape of `name`, or nil when the checkpoint has no such tensor.
    public func shape(of name: String) -> [Int]? { byName[name]?.shape }

    /// Declares the weight `name` of shape `shape` and returns its graph node.
    /// - Throws: `MVLMError` naming the tensor and the expected shape when it is missing, has
    ///   another shape, or has a dtype the float engine cannot read.
    public mutating func weight(_ name: String, _ shape: [Int], in graph: inout GraphBuilder) throws -> Int {
        let expected = Shape.describe(shape)
        guard let info = byName[name] else {
            throw MVLMError(.notFound, "missing from the checkpoint; expected shape \(expected)", subject: "tensor '\(name)'")
        }
        guard info.shape == shape else {
            throw MVLMError(
                .malformed, "has shape \(Shape.describe(info.shape)), expected \(expected) (from config.json)",
                subject: "tensor '\(name)'")
        }
        var runnable = [.float32, .float16, .bfloat16].contains(info.dtype)
        if case .block(let type) = info.dtype, BlockDequantizer.supports(type), shape.count == 2 { runnable = true }
        guard runnable else {
            throw MVLMError(
                .unsupported, "dtype \(info.dtype.name) cannot run in the engine (F32, F16, BF16 or a supported block type needed)",
                subject: "tensor '\(name)'")
        }
        if usedSet.insert(name).inserted { used.append(name) }
        return try graph.weight(name, TensorType(info.dtype, shape: shape))
    }

    /// Declares the weight `name`, stored with shape `shape`, read by the graph as `view` (same
    /// element count, e.g. a `[O, C, k, k]` convolution filter as the matrix `[O, C k k]`).
    public mutating func weight(_ name: String, _ shape: [Int], viewAs view: [Int], in graph: inout GraphBuilder) throws -> Int {
        guard Shape.elementCount(view) == Shape.elementCount(shape) else {
            throw MVLMError(.malformed, "cannot read \(Shape.describe(shape)) as \(Shape.describe(view))", subject: "tensor '\(name)'")
        }
        var scratch = GraphBuilder()
        _ = try weight(name, shape, in: &scratch)
        if view != shape { views[name] = view }
        guard let info = byName[name] else { preconditionFailure("checked by weight(_:_:in:)") }
        return try graph.weight(name, TensorType(info.dtype, shape: view))
    }

    /// Every tensor not declared, in file order, with `reason(name)` as its reason.
    public func unused(reason: (String) -> String) -> [UnusedTensor] {
        infos.filter { !usedSet.contains($0.name) }.map { UnusedTensor(name: $0.name, reason: reason($0.name)) }
    }
}
