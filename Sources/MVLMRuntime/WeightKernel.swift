import MVLMCore

/// A computation over one weight, written once and specialized for each weight format.
protocol WeightKernel {
    associatedtype Result
    /// Runs with the weight's first element at `base`.
    func run<W: WeightFormat>(_ format: W.Type, _ base: UnsafeRawPointer) -> Result
}

extension Tensor {
    /// Runs `kernel` over this weight's bytes with the format matching its dtype. Each `switch`
    /// arm calls a concrete specialization, so no existential reaches the inner loops.
    /// - Throws: `MVLMError` (`.unsupported`) for a dtype kernels cannot read.
    func apply<K: WeightKernel>(_ kernel: K) throws -> K.Result {
        switch dtype {
        case .float32, .float16, .bfloat16: break
        default:
            throw MVLMError(.unsupported, "kernels read F32, F16 or BF16 weights, not \(dtype.name)")
        }
        return withUnsafeBytes { bytes in
            // An empty tensor has no base address; kernels never read it then.
            let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
            switch dtype {
            case .float16: return kernel.run(Float16Format.self, base)
            case .bfloat16: return kernel.run(BFloat16Format.self, base)
            default: return kernel.run(Float32Format.self, base)
            }
        }
    }
}
