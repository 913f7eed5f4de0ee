import CMVLMKernels
import MVLMCore
import MVLMGraph

extension Interpreter {
    /// Activations and element-by-element arithmetic (with broadcasting).
    func computeElementwise(_ step: NodeStep) throws -> Activation {
        let node = step.node
        func value(_ index: Int) -> Activation { step.value(index) }
        let threads = self.threads

        switch node.operation {
        case .siluMul:
            let g = value(0), u = value(1)
            if NativeKernels.isEnabled && g.shape == u.shape {
                // SwiGLU in C (vector exp); the Swift closure below is the reference.
                return sameShape(g, u) { out, up in mvlm_silu_mul(out.baseAddress!, up.baseAddress!, out.baseAddress!, Int64(out.count)) }
            }
            return binary(g, u) { g, u in Kernels.silu(g) * u }
        case .add:
            let a = value(0), b = value(1)
            if a.shape == b.shape {
                // Residual adds: 8 lanes at a time (the closure below is the reference).
                return sameShape(a, b) { out, other in Vector.add(other, into: out) }
            }
            return binary(a, b) { $0 + $1 }
        case .mul:
            return binary(value(0), value(1)) { $0 * $1 }
        case .gelu:
            return unary(value(0)) { Kernels.gelu($0) }
        case .quickGelu:
            var output = value(0).values
            output.withUnsafeMutableBufferPointer { buffer in
                let box = UncheckedSendable(buffer)
                Kernels.elementwise(count: buffer.count, threads: threads) { range in
                    let part = UnsafeMutableBufferPointer(rebasing: box.value[range])
                    if NativeKernels.isEnabled, let base = part.baseAddress {
                        // In C (vector exp at every level, NEON too); the Swift SIMD path is the reference.
                        mvlm_quick_gelu(base, base, Int64(part.count))
                    } else {
                        VisionKernels.quickGelu(part)
                    }
                }
            }
            return Activation(shape: value(0).shape, values: output)
        case .relu:
            return unary(value(0)) { max($0, 0) }
        case .hardSwish:
            return unary(value(0)) { VisionKernels.hardSwish($0) }
        case .hardSigmoid:
            return unary(value(0)) { VisionKernels.hardSigmoid($0) }
        default:
            preconditionFailure("\(node.operation.name) is not a elementwise operation")
        }
    }

    func unary(_ x: Activation, _ f: @escaping (Float) -> Float) -> Activation {
        var output = x.values
        output.withUnsafeMutableBufferPointer { buffer in
            let box = UncheckedSendable(buffer)
            Kernels.elementwise(count: buffer.count, threads: threads) { range in
                for i in range { box.value[i] = f(box.value[i]) }
            }
        }
        return Activation(shape: x.shape, values: output)
    }

    func binary(_ a: Activation, _ b: Activation, _ f: @escaping (Float, Float) -> Float) -> Activation {
        if a.shape != b.shape { return broadcast(a, b, f) }
        return sameShape(a, b) { out, other in
            for i in out.indices { out[i] = f(out[i], other[i]) }
        }
    }

    /// A copy of `a` that `body` updates from `b` (same shape) in place, slice by slice:
    /// `body(out[range], b[range])` over disjoint ranges, from up to `threads` threads.
    func sameShape(
        _ a: Activation, _ b: Activation,
        _ body: @escaping (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void
    ) -> Activation {
        var output = a.values
        output.withUnsafeMutableBufferPointer { buffer in
            b.values.withUnsafeBufferPointer { other in
                let box = UncheckedSendable((buffer, other))
                Kernels.elementwise(count: buffer.count, threads: threads) { range in
                    let (out, other) = box.value
                    body(UnsafeMutableBufferPointer(rebasing: out[range]), UnsafeBufferPointer(rebasing: other[range]))
                }
            }
        }
        return Activation(shape: a.shape, values: output)
    }

    /// `f(a, b)` with `b` broadcast along its size-1 dimensions (type inference checked the shapes).
    func broadcast(_ a: Activation, _ b: Activation, _ f: (Float, Float) -> Float) -> Activation {
        var output = a.values
        let rank = a.shape.count
        if rank >= 1, b.shape.dropLast().allSatisfy({ $0 == 1 }), b.shape.last == a.shape.last {
            // [.., C] with [1, .., C]: one row of b against every row of a.
            let width = a.lastDimension
            for row in 0..<a.rowCount {
                for c in 0..<width { output[row * width + c] = f(output[row * width + c], b.values[c]) }
            }
            return Activation(shape: a.shape, values: output)
        }
        var bStrides = [Int](repeating: 0, count: rank)
        var stride = 1
        for axis in (0..<rank).reversed() {
            bStrides[axis] = b.shape[axis] == 1 ? 0 : stride
            stride *= b.shape[axis]
        }
        for index in output.indices {
            var rest = index, offset = 0
            for axis in (0..<rank).reversed() {
                let coordinate = rest % a.shape[axis]
                rest /= a.shape[axis]
                offset += coordinate * bStrides[axis]
            }
            output[index] = f(output[index], b.values[offset])
        }
        return Activation(shape: a.shape, values: output)
    }
}
