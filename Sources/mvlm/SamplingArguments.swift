import ArgumentParser
import MVLMCore
import MVLMModels

/// How `mvlm run` chooses each token: greedy unless asked otherwise (docs/cli.md, "run").
struct SamplingArguments: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Start from 'greedy' (the default) or from the model's own 'model' defaults (generation_config.json beside a checkpoint, or recorded in an .mvlm file); the flags below override either.",
        valueName: "greedy|model"))
    var sampling: String = "greedy"

    @Option(help: "Divide the logits by this before drawing (0: greedy; > 0 samples).")
    var temperature: Float?

    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: off).")
    var topK: Int?

    @Option(name: .customLong("top-p"), help: "Keep the fewest most likely tokens whose probability reaches p (1: off).")
    var topP: Float?

    @Option(name: .customLong("min-p"), help: "Drop tokens less likely than min-p times the most likely one (0: off).")
    var minP: Float?

    @Option(help: "Penalize ids already in the prompt or the answer, as transformers does (1: off).")
    var repetitionPenalty: Float?

    @Option(help: "Seed of the draw: the same seed, model and prompt give the same answer on every machine.")
    var seed: UInt64?

    @Option(name: .customLong("stop"), help: ArgumentHelp("End the answer before this text (repeatable; with --prompt).", valueName: "TEXT"))
    var stopStrings: [String] = []

    func validate() throws {
        guard ["greedy", "model"].contains(sampling) else {
            throw ValidationError("--sampling takes 'greedy' or 'model', not '\(sampling)'")
        }
        if stopStrings.contains("") { throw ValidationError("--stop: an empty stop string would end every answer at once") }
    }

    /// The options: the starting point (`--sampling`), then each flag given.
    /// - Parameter modelDefaults: the model's generation_config, when it has one.
    /// - Throws: `MVLMError` for a field out of range, or `--sampling model` for a model without defaults.
    func options(modelDefaults: () throws -> [String: MetadataValue]?) throws -> SamplingOptions {
        var options = SamplingOptions.greedy
        if sampling == "model" {
            guard let defaults = try modelDefaults() else {
                throw ValidationError("--sampling model: the model has no generation_config.json (nor one recorded in the .mvlm file)")
            }
            options = try SamplingOptions(generationConfig: defaults)
        }
        if let temperature { options.temperature = temperature }
        if let topK { options.topK = topK }
        if let topP { options.topP = topP }
        if let minP { options.minP = minP }
        if let repetitionPenalty { options.repetitionPenalty = repetitionPenalty }
        if let seed { options.seed = seed }
        if options.temperature == 0, topK != nil || topP != nil || minP != nil {
            throw ValidationError("--top-k, --top-p and --min-p filter a draw: add --temperature T (> 0), or --sampling model")
        }
        try options.validate()
        return options
    }

    /// Whether any flag asks for something else than greedy decoding (for --tokens' stop check).
    var isDefault: Bool {
        sampling == "greedy" && temperature == nil && topK == nil && topP == nil && minP == nil && repetitionPenalty == nil
            && seed == nil && stopStrings.isEmpty
    }
}
