import CMVLMKernels
import MVLMCore
import MVLMGraph

extension Interpreter {
    /// `x · Wᵀ (+ bias)` through the weight's kernel (quantized matrix-vector for a few rows).
    func computeLinear(_ step: NodeStep) throws -> Activation {
        let node = step.node
        func value(_ index: Int) -> Activation { step.value(index) }
        let threads = self.threads
        let eightBitActivations = self.eightBitActivations

        switch node.operation {
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
                        if QuantizedMatVec.applies(to: weight, tokens: rows, eightBitActivations: eightBitActivations) {
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
        default:
            preconditionFailure("\(node.operation.name) is not a linear operation")
        }
    }
}
