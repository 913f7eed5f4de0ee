import MVLMCheckpoint
import MVLMCore
import MVLMModels

extension LanguageModel {
    /// Builds the model of an opened checkpoint (its config.json and merged tensors).
    /// - Throws: as `load(config:reader:)`; errors without a file name the checkpoint's path.
    /// A MobileVLM checkpoint's vision tower is configured by `VisionTowerResolver` (from
    /// `visionTower`, the config, `mm_vision_tower` or the built-in table); when none applies the
    /// model runs text only.
    public static func load(_ checkpoint: Checkpoint, visionTower: String? = nil) throws -> LanguageModel {
        do {
            var (config, reader) = try engineView(checkpoint)
            config = try VisionTowerResolver.resolve(
                config: config, checkpointDirectory: checkpoint.directory, visionTower: visionTower
            ).config
            return try load(config: config, reader: reader)
        } catch let error as MVLMError {
            throw error.inFile(checkpoint.path)
        }
    }

    /// The configuration and tensors the engine builds from: the checkpoint's own, or for a
    /// llama GGUF (and a file converted from one) its metadata as a config and its tensors under
    /// Hugging Face names (`engineView(config:reader:path:)`).
    public static func engineView(_ checkpoint: Checkpoint) throws -> ([String: MetadataValue], any TensorReader) {
        try engineView(config: checkpoint.config, reader: checkpoint.reader, path: checkpoint.path)
    }
}
