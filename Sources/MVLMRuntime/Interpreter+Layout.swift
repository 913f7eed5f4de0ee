import MVLMCore
import MVLMGraph

extension Interpreter {
    /// Reshape, concatenation and slicing (values are copied, never computed).
    func computeLayout(_ step: NodeStep) throws -> Activation {
        let node = step.node
        func value(_ index: Int) -> Activation { step.value(index) }
        func fail(_ message: String) -> MVLMError { step.fail(message) }
        let bindings = step.bindings

        switch node.operation {
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
        default:
            preconditionFailure("\(node.operation.name) is not a layout operation")
        }
    }
}
