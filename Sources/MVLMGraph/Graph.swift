import MVLMCore

/// A model as a list of typed operations over named weights, in execution order.
///
/// Nodes refer to inputs by index and only to earlier nodes, so the list is a topological order.
/// Build graphs with `GraphBuilder`, which infers and checks every type as nodes are added;
/// `verify()` re-checks a graph built or edited elsewhere.
public struct Graph: Sendable, CustomStringConvertible {
    public var nodes: [Node]
    /// Named results, in the order they were declared.
    public var outputs: [(name: String, node: Int)]

    public init(nodes: [Node], outputs: [(name: String, node: Int)]) {
        self.nodes = nodes
        self.outputs = outputs
    }

    /// The node of the named output, or nil.
    public func output(named name: String) -> Int? {
        outputs.first { $0.name == name }?.node
    }

    /// Every weight node as `(name, type)`, in graph order, each name once.
    public var weights: [(name: String, type: TensorType)] {
        var seen = Set<String>()
        var result: [(String, TensorType)] = []
        for node in nodes {
            if case .weight(let name) = node.operation, seen.insert(name).inserted {
                result.append((name, node.type))
            }
        }
        return result
    }

    /// Every input node as `(name, type)`.
    public var inputs: [(name: String, type: TensorType)] {
        nodes.compactMap { node in
            if case .input(let name) = node.operation { return (name, node.type) }
            return nil
        }
    }

    /// Checks that every node refers only to earlier nodes and that each node's type is the one
    /// its operation infers from its inputs (shapes and dtypes agree).
    /// - Throws: `MVLMError` (`.malformed`) naming the first bad node.
    public func verify() throws {
        var names = Set<String>()
        for (index, node) in nodes.enumerated() {
            guard node.id == index else {
                throw MVLMError(.malformed, "node id \(node.id) at position \(index)", subject: "graph")
            }
            for input in node.inputs where !(0..<index).contains(input) {
                throw MVLMError(
                    .malformed, "input %\(input) is not an earlier node", subject: "node %\(index) (\(node.operation.name))")
            }
            let inferred = try TypeInference.type(
                of: node.operation, inputs: node.inputs.map { nodes[$0].type }, declared: node.type,
                node: index)
            try TypeInference.checkWeightInputs(
                of: node.operation, inputs: node.inputs.map { nodes[$0].operation }, node: index)
            guard inferred == node.type else {
                throw MVLMError(
                    .malformed, "declared type \(node.type) but its inputs give \(inferred)",
                    subject: "node %\(index) (\(node.operation.name))")
            }
            if case .input(let name) = node.operation, !names.insert("input:" + name).inserted {
                throw MVLMError(.malformed, "input \"\(name)\" declared twice", subject: "graph")
            }
        }
        var outputNames = Set<String>()
        for output in outputs {
            guard nodes.indices.contains(output.node) else {
                throw MVLMError(.malformed, "output \"\(output.name)\" refers to missing node %\(output.node)", subject: "graph")
            }
            guard outputNames.insert(output.name).inserted else {
                throw MVLMError(.malformed, "output \"\(output.name)\" declared twice", subject: "graph")
            }
        }
    }

    /// The textual dump: one node per line, `%id = op(inputs) {params} : type  # label`, then the
    /// outputs.
    public var description: String {
        var lines: [String] = []
        lines.reserveCapacity(nodes.count + outputs.count)
        for node in nodes {
            var line = "%\(node.id) = \(node.operation.name)"
            let arguments = node.inputs.map { "%\($0)" }.joined(separator: ", ")
            let parameters = node.operation.parameterDescription
            if !arguments.isEmpty || node.inputs.isEmpty { line += "(\(arguments))" }
            if !parameters.isEmpty { line += " {\(parameters)}" }
            line += " : \(node.type)"
            if !node.label.isEmpty { line += "  # \(node.label)" }
            lines.append(line)
        }
        for output in outputs {
            lines.append("output \"\(output.name)\" = %\(output.node) : \(nodes[output.node].type)")
        }
        return lines.joined(separator: "\n")
    }
}
