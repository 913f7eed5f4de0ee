import Dispatch
import Foundation
import MVLMCore
import MVLMQuant

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
        case .block(let type):
            if let result = applyInPlace(kernel, type) { return result }
            return try dequantized(type).apply(kernel)
        default:
            throw MVLMError(.unsupported, "kernels read F32, F16, BF16 or block-quantized weights, not \(dtype.name)")
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

extension Tensor {
    /// Runs `kernel` on the stored blocks through the block type's format (the weights are read
    /// in place from the mapping, never converted as a whole); nil for a type without one.
    func applyInPlace<K: WeightKernel>(_ kernel: K, _ type: BlockType) -> K.Result? {
        withUnsafeBytes { bytes in
            let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
            switch type {
            case .q8_0, .int8Block32: return kernel.run(Q8_0Format.self, base)
            case .q4_0: return kernel.run(Q4_0Format.self, base)
            case .q4_1, .affine4G32: return kernel.run(Q4_1Format.self, base)
            case .q5_0: return kernel.run(Q5_0Format.self, base)
            case .iq4_NL: return kernel.run(IQ4_NLFormat.self, base)
            case .q4_K: return kernel.run(Q4_KFormat.self, base)
            case .q6_K: return kernel.run(Q6_KFormat.self, base)
            case .affine4G64: return kernel.run(AffineInt4G64Format.self, base)
            case .affine4G128: return kernel.run(AffineInt4G128Format.self, base)
            default: return nil
            }
        }
    }

    /// Whether `applyInPlace` has a format for `type` (else kernels take the reference path).
    static func readsInPlace(_ type: BlockType) -> Bool {
        switch type {
        case .q8_0, .int8Block32, .q4_0, .q4_1, .affine4G32, .q5_0, .q4_K, .q6_K, .affine4G64, .affine4G128, .iq4_NL: true
        default: false
        }
    }

    /// The reference path for block-quantized weights: the tensor dequantized into a temporary f32
    /// tensor (one weight at a time, freed after the call), then the f32 kernel. Exact with respect
    /// to the stored blocks; fast kernels that read the blocks in place are a separate step.
    func dequantized(_ type: BlockType) throws -> Tensor {
        guard BlockDequantizer.supports(type) else {
            throw MVLMError(.unsupported, "kernels cannot read \(type.name) blocks yet")
        }
        let count = elementCount
        let rowLength = shape.last ?? count
        let rows = rowLength > 0 ? count / rowLength : 0
        let rowBytes = type.rowByteCount(elements: rowLength) ?? 0
        let storage = try TensorStorage(byteCount: count * 4) { destination in
            try withUnsafeBytes { source in
                // Rows in parallel (disjoint output ranges); sizes were checked when the tensor was made.
                let chunks = min(rows, 32)
                let failure = FirstError()
                let input = UncheckedSendable(source)
                let output = UncheckedSendable(destination.bindMemory(to: Float.self))
                DispatchQueue.concurrentPerform(iterations: max(chunks, 1)) { chunk in
                    guard chunks > 0 else { return }
                    let start = rows * chunk / chunks, end = rows * (chunk + 1) / chunks
                    do {
                        try BlockDequantizer.dequantize(
                            type, from: UnsafeRawBufferPointer(rebasing: input.value[(start * rowBytes)..<(end * rowBytes)]),
                            into: UnsafeMutableBufferPointer(rebasing: output.value[(start * rowLength)..<(end * rowLength)]),
                            rowLength: rowLength)
                    } catch {
                        failure.record(error)
                    }
                }
                if let error = failure.error { throw error }
            }
        }
        return try Tensor(storage: storage, dtype: .float32, shape: shape)
    }
}

/// The first error thrown by any of several concurrent tasks.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.withLock { stored } }
    func record(_ error: Error) { lock.withLock { if stored == nil { stored = error } } }
}
