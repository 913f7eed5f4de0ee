import Foundation
import MVLMCore
import MVLMModelFile

extension Checkpoint {
    /// The model's generation defaults (transformers' `generation_config.json`: `do_sample`,
    /// `temperature`, `top_k`, `top_p`, `min_p`, `repetition_penalty`…): for an `.mvlm` file the
    /// copy `convert` recorded in its manifest (`metadata.generation_config`), otherwise the
    /// `generation_config.json` beside the checkpoint; nil when there is none.
    /// - Throws: `MVLMError` (`.malformed`) naming the file when it is not a JSON object.
    public func generationConfig() throws -> [String: MetadataValue]? {
        if let file = reader as? ModelFileReader {
            guard let value = file.manifest.metadata["generation_config"] else { return nil }
            guard case .object(let fields) = value else {
                throw MVLMError(.malformed, "is not an object", file: path, subject: "manifest metadata 'generation_config'")
            }
            return fields
        }
        let candidate = directory + "/generation_config.json"
        guard FileManager.default.fileExists(atPath: candidate) else { return nil }
        return try Self.readConfig(candidate)
    }
}
