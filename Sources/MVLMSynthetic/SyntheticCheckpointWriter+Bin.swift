import MVLMCore
import MVLMPyTorch
import MVLMSafetensors

extension SyntheticCheckpointWriter {
    /// Writes the weights as torch.save does (a zip of stored entries), streaming tensor by tensor.
    func writeBin(to path: String, specs: [SafetensorsWriter.TensorSpec], progress: (Int, Int) -> Void, total: Int) throws {
        var written = 0
        try PyTorchWriter.write(specs, to: path) { index, entry, sink in
            try generate(preset.tensors[index], sink)
            written += entry.dtype.byteCount(elementCount: Shape.elementCount(entry.shape)!)!
            progress(written, total)
        }
    }
}
