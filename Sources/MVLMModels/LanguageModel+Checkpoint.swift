import MVLMCheckpoint
import MVLMCore

extension LanguageModel {
    /// Builds the model of an opened checkpoint (its config.json and merged tensors).
    /// - Throws: as `load(config:reader:)`; errors without a file name the checkpoint's path.
    public static func load(_ checkpoint: Checkpoint) throws -> LanguageModel {
        do {
            return try load(config: checkpoint.config, reader: checkpoint.reader)
        } catch let error as MVLMError {
            throw error.inFile(checkpoint.path)
        }
    }
}
