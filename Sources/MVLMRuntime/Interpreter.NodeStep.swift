import MVLMCore
import MVLMGraph

extension Interpreter {
    /// What computing one node may read: the node, the values computed so far in this run and
    /// the run's token state.
    struct NodeStep {
        let node: Node
        let values: [Activation?]
        /// Token ids of the `int32` inputs, by node id.
        let tokens: [Int: [Int32]]
        /// Tokens already in the key/value cache before this run.
        let past: Int
        /// Tokens this run adds.
        let newTokens: Int
        /// Symbolic dimensions bound from the inputs' shapes.
        let bindings: [String: Int]

        /// The value of the node's input `index` (computed before this node).
        func value(_ index: Int) -> Activation { values[node.inputs[index]]! }

        /// An error naming the node.
        func fail(_ message: String) -> MVLMError {
            MVLMError(.invalidArgument, message, subject: "node %\(node.id) (\(node.operation.name))\(node.label.isEmpty ? "" : " \(node.label)")")
        }
    }
}
