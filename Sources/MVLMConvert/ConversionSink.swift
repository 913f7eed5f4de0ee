import MVLMCore
import MVLMModelFile

/// Where `ModelConverter` streams the tensors it converts: an `.mvlm` file (`ModelFileWriter`) or
/// a GGUF file (`GGUFTensorSink`). The converter calls `beginTensor` once per decision, `write` with
/// the encoded bytes of whole rows (or, for tensors kept as stored, chunks of their bytes) in
/// order, and `endTensor`.
public protocol ConversionSink: AnyObject {
    /// Starts the output tensor `decision` describes, stored as `dtype`.
    func beginTensor(_ decision: TensorDecision, dtype: DType) throws
    /// Appends bytes of the current tensor.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Ends the current tensor.
    func endTensor() throws
}

extension ModelFileWriter: ConversionSink {
    public func beginTensor(_ decision: TensorDecision, dtype: DType) throws {
        try beginTensor(
            name: decision.name, dtype: dtype, shape: decision.shape, source: decision.provenance, layout: decision.manifestLayout)
    }
}
