import MVLMCore
import MVLMGraph

/// The hyper-parameters of a LLaMA-style decoder, read from config.json with Hugging Face
/// `LlamaConfig` defaults for absent fields.
public struct LlamaConfiguration: Hashable, Sendable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var heads: Int
    public var keyValueHeads: Int
    public var headDimension: Int
    public var rmsNormEpsilon: Float
    public var rope: RotaryEmbedding
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    public var attentionBias: Bool
    public var mlpBias: Bool

    /// Parses config.json fields.
    ///
    /// RoPE parameters come from `rope_parameters` (transformers ≥ 5) or `rope_scaling` plus
    /// `rope_theta` (earlier versions); `rope_type` (or `type`) may be `default`, `linear` or
    /// `llama3`.
    /// - Throws: `MVLMError` naming the field for a missing, mistyped or inconsistent value, and
    ///   `.unsupported` for another RoPE scaling type or activation.
    public init(config: [String: MetadataValue]) throws {
        let fields = ConfigFields(values: config)
        vocabularySize = try fields.positiveInt("vocab_size")
        hiddenSize = try fields.positiveInt("hidden_size")
        intermediateSize = try fields.positiveInt("intermediate_size")
        layerCount = try fields.positiveInt("num_hidden_layers")
        heads = try fields.positiveInt("num_attention_heads")
        keyValueHeads = try fields.positiveInt("num_key_value_heads", default: heads)
        func fail(_ key: String, _ message: String, _ code: MVLMError.Code = .malformed) -> MVLMError {
            MVLMError(code, message, file: "config.json", subject: "'\(key)'")
        }
        if fields.has("head_dim") {
            headDimension = try fields.positiveInt("head_dim")
        } else {
            guard hiddenSize % heads == 0 else {
                throw fail("hidden_size", "\(hiddenSize) is not a multiple of num_attention_heads \(heads) (and no head_dim is given)")
            }
            headDimension = hiddenSize / heads
        }
        guard heads % keyValueHeads == 0 else {
            throw fail("num_key_value_heads", "\(keyValueHeads) does not divide num_attention_heads \(heads)")
        }
        guard headDimension % 2 == 0 else { throw fail("head_dim", "\(headDimension) is odd; RoPE needs an even head size") }
        let epsilon = try fields.number("rms_norm_eps", default: 1e-6)
        guard epsilon >= 0 else { throw fail("rms_norm_eps", "\(epsilon) is negative") }
        rmsNormEpsilon = Float(epsilon)
        maxPositionEmbeddings = try fields.positiveInt("max_position_embeddings", default: 2048)
        tieWordEmbeddings = try fields.bool("tie_word_embeddings", default: false)
        attentionBias = try fields.bool("attention_bias", default: false)
        mlpBias = try fields.bool("mlp_bias", default: false)
        if let activation = try fields.string("hidden_act"), activation != "silu" {
            throw fail("hidden_act", "\"\(activation)\" is not supported for LLaMA blocks (expected \"silu\")", .unsupported)
        }
        rope = try Self.rotaryEmbedding(fields, headDimension: headDimension)
        // Set for models read from GGUF, whose Q/K rows are in llama.cpp's pair order (GGUFLlama).
        rope.interleaved = try fields.bool("mvlm_rope_interleaved", default: false)
    }

    private static func rotaryEmbedding(_ fields: ConfigFields, headDimension: Int) throws -> RotaryEmbedding {
        let parametersKey = fields.has("rope_parameters") ? "rope_parameters" : "rope_scaling"
        let parameters = try fields.object(parametersKey) ?? [:]
        func fail(_ message: String, _ code: MVLMError.Code = .malformed) -> MVLMError {
            MVLMError(code, message, file: "config.json", subject: "'\(parametersKey)'")
        }
        let theta = try parameters["rope_theta"] != nil
            ? fields.number("rope_theta", in: parameters, default: nil)
            : fields.number("rope_theta", default: 10000)
        guard theta > 0 else { throw fail("rope_theta \(theta) must be positive") }
        let typeValue = parameters["rope_type"] ?? parameters["type"] ?? .string("default")
        guard let type = typeValue.stringValue else { throw fail("rope_type is \(typeValue.summary()), expected a string") }
        if let partial = parameters["partial_rotary_factor"]?.doubleValue, partial != 1 {
            throw fail("partial_rotary_factor \(partial) is not supported", .unsupported)
        }
        let scaling: RotaryEmbedding.Scaling
        switch type {
        case "default":
            scaling = .none
        case "linear":
            let factor = try fields.number("factor", in: parameters, default: nil)
            guard factor > 0 else { throw fail("factor \(factor) must be positive") }
            scaling = .linear(factor: factor)
        case "llama3":
            let factor = try fields.number("factor", in: parameters, default: nil)
            let low = try fields.number("low_freq_factor", in: parameters, default: nil)
            let high = try fields.number("high_freq_factor", in: parameters, default: nil)
            let original = try fields.number("original_max_position_embeddings", in: parameters, default: nil)
            guard factor > 0, low > 0, high > low, original > 0 else {
                throw fail("llama3 scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor, original_max_position_embeddings > 0; got \(factor), \(low), \(high), \(original)")
            }
            scaling = .llama3(factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high, originalContext: original)
        default:
            throw fail("rope type \"\(type)\" is not supported (supported: default, linear, llama3)", .unsupported)
        }
        return RotaryEmbedding(headDimension: headDimension, theta: theta, scaling: scaling)
    }
}
