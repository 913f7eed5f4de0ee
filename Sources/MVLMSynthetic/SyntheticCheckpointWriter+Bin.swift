import MVLMCore
import MVLMSafetensors

extension SyntheticCheckpointWriter {
    func writeBin(to path: String, specs: [SafetensorsWriter.TensorSpec], progress: (Int, Int) -> Void, total: Int) throws {
        throw MVLMError(.unsupported, "PyTorch .bin output is not wired yet", file: path)
    }
}
