import MVLMCore

extension LanguageModel {
    /// The configuration and tensors the engine builds from, given a file's own configuration and
    /// tensors: unchanged, or for a llama GGUF (and a file converted from one, whose tensors keep
    /// llama.cpp's names) its metadata as a config and its tensors under Hugging Face names
    /// (`GGUFLlama`).
    /// - Parameters:
    ///   - config: the configuration the file carries (config.json, an .mvlm manifest's `config`),
    ///     empty when it has none.
    ///   - reader: the file's tensors (and, for a GGUF, its metadata).
    ///   - path: the file, for error messages.
    /// - Throws: `MVLMError` (`.unsupported`) for a GGUF of another architecture than llama, and
    ///   `GGUFLlama.config`'s errors.
    public static func engineView(
        config: [String: MetadataValue], reader: any TensorReader, path: String
    ) throws -> ([String: MetadataValue], any TensorReader) {
        let names = Set(reader.tensorInfos.map(\.name))
        guard names.contains("token_embd.weight") else { return (config, reader) }
        var config = config
        if config["model_type"] == nil {
            guard GGUFLlama.describesLlama(reader.metadata) else {
                throw MVLMError(
                    .unsupported,
                    "GGUF architecture '\(reader.metadata["general.architecture"]?.stringValue ?? "?")' is not supported (supported: llama)",
                    file: path)
            }
            config = try GGUFLlama.config(metadata: reader.metadata, tensorNames: names)
        }
        return (config, RenamedTensorReader(reader, rename: GGUFLlama.huggingFaceName))
    }
}
