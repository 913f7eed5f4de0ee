import CMVLMKernels
import MVLMCore
import MVLMGraph

extension Interpreter {
    /// The image encoder's own operations: bidirectional attention, patches, depthwise convolution, pooling.
    func computeVision(_ step: NodeStep) throws -> Activation {
        let node = step.node
        func value(_ index: Int) -> Activation { step.value(index) }
        let threads = self.threads

        switch node.operation {
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
        default:
            preconditionFailure("\(node.operation.name) is not a vision operation")
        }
    }
}
