import MVLMCore

/// Builds a `Graph` node by node, inferring each node's type and rejecting ops whose shapes or
/// dtypes disagree as soon as they are added.
public struct GraphBuilder: Sendable {
    public private(set) var nodes: [Node] = []
    private var outputs: [(name: String, node: Int)] = []
    private var weightNodes: [String: Int] = [:]

    public init() {}

    /// The type of a node built so far.
    public func type(of node: Int) -> TensorType { nodes[node].type }

    /// Adds a graph input.
    public mutating func input(_ name: String, _ type: TensorType) throws -> Int {
        try add(.input(name: name), [], declared: type)
    }

    /// Adds (or reuses) the weight node for `name`.
    /// - Throws: when the same name was declared before with another type.
    public mutating func weight(_ name: String, _ type: TensorType) throws -> Int {
        if let existing = weightNodes[name] {
            guard nodes[existing].type == type else {
                throw MVLMError(
                    .malformed, "declared as \(nodes[existing].type) and as \(type)", subject: "weight '\(name)'")
            }
            return existing
        }
        let id = try add(.weight(name: name), [], declared: type, label: "")
        weightNodes[name] = id
        return id
    }

    /// Adds a node computing `operation` of `inputs` and returns its id.
    /// - Throws: `MVLMError` (`.malformed`) when the inputs' types do not fit the operation.
    @discardableResult
    public mutating func add(
        _ operation: Operation, _ inputs: [Int], declared: TensorType? = nil, label: String = ""
    ) throws -> Int {
        let id = nodes.count
        for input in inputs where !(0..<id).contains(input) {
            throw MVLMError(.malformed, "input %\(input) does not exist", subject: "node %\(id) (\(operation.name))")
        }
        let type = try TypeInference.type(
            of: operation, inputs: inputs.map { nodes[$0].type }, declared: declared, node: id)
        try TypeInference.checkWeightInputs(of: operation, inputs: inputs.map { nodes[$0].operation }, node: id)
        nodes.append(Node(id: id, operation: operation, inputs: inputs, type: type, label: label))
        return id
    }

    /// Declares `node` as the output `name`.
    public mutating func output(_ name: String, _ node: Int) {
        outputs.append((name, node))
    }

    /// The finished graph, verified.
    public func build() throws -> Graph {
        let graph = Graph(nodes: nodes, outputs: outputs)
        try graph.verify()
        return graph
    }
}
