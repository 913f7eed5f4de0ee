import MVLMCore

/// How the next token is chosen after the model's logits: greedy (the default of `mvlm run` and
/// `verify`), or a draw from the distribution left after the filters Hugging Face transformers
/// applies when `do_sample` is on, in transformers' order (`GenerationMixin._get_logits_processor`):
///
/// 1. repetition penalty (`RepetitionPenaltyLogitsProcessor`): every id already in the context has
///    its logit divided by the penalty when positive, multiplied when negative;
/// 2. temperature (`TemperatureLogitsWarper`): logits / temperature;
/// 3. top-k (`TopKLogitsWarper`): logits below the k-th largest are removed (ties with it stay);
/// 4. top-p (`TopPLogitsWarper`): in ascending order, the tokens whose cumulative probability is
///    at most 1 - p are removed (the most likely token always stays);
/// 5. min-p (`MinPLogitsWarper`): tokens whose probability is below min_p x the top probability
///    are removed (the most likely token always stays).
///
/// Then one id is drawn from the softmax of what is left, with a seeded generator (`Sampler`), so
/// a seed reproduces a run on every machine.
public struct SamplingOptions: Sendable, Hashable, Codable {
    /// 0 picks the most likely token (greedy, and every other field is ignored but the
    /// repetition penalty); otherwise the logits are divided by it before sampling.
    public var temperature: Float
    /// Keep the k most likely tokens (0: off).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p (1: off).
    public var topP: Float
    /// Drop tokens less likely than min_p x the most likely one (0: off).
    public var minP: Float
    /// Penalty for ids already in the context, > 0 (1: off).
    public var repetitionPenalty: Float
    /// Seed of the draw.
    public var seed: UInt64

    enum CodingKeys: String, CodingKey {
        case temperature
        case topK = "top_k"
        case topP = "top_p"
        case minP = "min_p"
        case repetitionPenalty = "repetition_penalty"
        case seed
    }

    /// Greedy decoding with no penalty.
    public static let greedy = SamplingOptions()

    public init(
        temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0, repetitionPenalty: Float = 1,
        seed: UInt64 = 0
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }

    /// Whether the options draw at random (temperature above 0).
    public var isSampling: Bool { temperature > 0 }

    /// Checks every field's range.
    /// - Throws: `MVLMError` (`.invalidArgument`) naming the field, its value and the range it needs.
    public func validate() throws {
        func fail(_ field: String, _ value: String, _ range: String) throws -> Never {
            throw MVLMError(.invalidArgument, "\(field) is \(value); it must be \(range)")
        }
        if !(temperature >= 0) || !temperature.isFinite { try fail("temperature", "\(temperature)", "a finite number ≥ 0 (0 is greedy)") }
        if topK < 0 { try fail("top-k", "\(topK)", "≥ 0 (0 turns it off)") }
        if !(topP > 0 && topP <= 1) { try fail("top-p", "\(topP)", "in (0, 1] (1 turns it off)") }
        if !(minP >= 0 && minP <= 1) { try fail("min-p", "\(minP)", "in [0, 1] (0 turns it off)") }
        if !(repetitionPenalty > 0) || !repetitionPenalty.isFinite {
            try fail("repetition penalty", "\(repetitionPenalty)", "a finite number > 0 (1 turns it off)")
        }
    }

    /// The defaults a model ships in `generation_config.json` (transformers' `GenerationConfig`):
    /// `do_sample` false (or absent) means greedy whatever the other fields say, as in
    /// transformers; `temperature`, `top_k`, `top_p`, `min_p` and `repetition_penalty` are read
    /// when present, with transformers' defaults (1.0, 50, 1.0, none, 1.0) otherwise.
    /// - Throws: `MVLMError` when a field has the wrong type or is out of range.
    public init(generationConfig config: [String: MetadataValue]) throws {
        func number(_ key: String) throws -> Double? {
            guard let value = config[key], value != .null else { return nil }
            guard let number = value.doubleValue else {
                throw MVLMError(.malformed, "generation_config.json: '\(key)' is not a number", subject: "field '\(key)'")
            }
            return number
        }
        let penalty = Float(try number("repetition_penalty") ?? 1)
        guard case .bool(true) = config["do_sample"] ?? .bool(false) else {
            self.init(repetitionPenalty: penalty)
            try validate()
            return
        }
        self.init(
            temperature: Float(try number("temperature") ?? 1), topK: Int(try number("top_k") ?? 50),
            topP: Float(try number("top_p") ?? 1), minP: Float(try number("min_p") ?? 0), repetitionPenalty: penalty)
        try validate()
    }
}
