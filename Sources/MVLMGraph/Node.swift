/// A value in a graph: the operation that computes it, its inputs and its type.
public struct Node: Hashable, Sendable {
    /// The node's index in `Graph.nodes`; inputs always have smaller ids.
    public var id: Int
    public var operation: Operation
    public var inputs: [Int]
    public var type: TensorType
    /// A human-readable tag shown in dumps (e.g. `layers.3.attn.q`), or "".
    public var label: String

    public init(id: Int, operation: Operation, inputs: [Int], type: TensorType, label: String = "") {
        self.id = id
        self.operation = operation
        self.inputs = inputs
        self.type = type
        self.label = label
    }
}
