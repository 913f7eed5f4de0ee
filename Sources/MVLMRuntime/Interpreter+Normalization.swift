import CMVLMKernels
import MVLMCore
import MVLMGraph

extension Interpreter {
    /// RMSNorm and LayerNorm over the last axis.
    func computeNormalization(_ step: NodeStep) throws -> Activation {
        let node = step.node
        func value(_ index: Int) -> Activation { step.value(index) }
        let threads = self.threads

        switch node.operation {
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
        default:
            preconditionFailure("\(node.operation.name) is not a normalization operation")
        }
    }
}
