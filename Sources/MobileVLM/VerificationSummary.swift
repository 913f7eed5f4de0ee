import MVLMCore

/// What `mvlm convert --verify` measured when the file was made: the quantized model against its
/// float source on a held-out input (the manifest's `verification` field, Formats/mvlm.md;
/// the fields are explained in docs/verify-json.md).
public struct VerificationSummary: Sendable, Equatable {
    /// The input the comparison ran on (a file name, or a description of the default text).
    public var input: String
    /// Tokens of input, and the positions whose next-token distribution was scored.
    public var tokens: Int
    public var scoredPositions: Int
    /// KL divergence of the file's next-token distribution from the float source's: mean, 99th
    /// percentile and maximum over the scored positions (nats).
    public var kldMean: Double
    public var kldP99: Double
    public var kldMax: Double
    /// The fraction of positions where both models rank the same token first.
    public var top1Agreement: Double
    /// Perplexity of the file over perplexity of the float source on the input.
    public var perplexityRatio: Double
    /// Cosine similarity of the two models' logits.
    public var logitsCosine: Double
    /// Whether the measures were within the budget `convert` was given.
    public var passed: Bool
    /// The block whose hidden state drifts most (nil when not recorded).
    public var worstLayer: Layer?
    /// The weight tensor stored with the most error (nil when not recorded).
    public var worstTensor: WeightTensor?

    /// A block of the model and how far its output drifted.
    public struct Layer: Sendable, Equatable {
        /// `layer.7`, `final`…
        public var name: String
        /// Signal-to-noise ratio of its hidden state in dB (nil when exact).
        public var snrDecibels: Double?
    }

    /// A weight tensor and the error of its storage.
    public struct WeightTensor: Sendable, Equatable {
        public var name: String
        /// Its storage type in the file (`Q4_K`, `F16`…).
        public var storedAs: String
        /// Signal-to-noise ratio of the stored weights in dB (nil when exact).
        public var snrDecibels: Double?
    }

    /// The summary a manifest's `verification` value holds.
    /// - Throws: `MVLMError` (`.malformed`) naming the field that is missing or of the wrong type.
    public init(manifestValue value: MetadataValue, file: String) throws {
        func field(_ key: String, in object: MetadataValue? = nil) throws -> MetadataValue {
            guard let found = (object ?? value)[key], found != .null else {
                throw MVLMError(.malformed, "missing '\(key)'", file: file, subject: "manifest verification")
            }
            return found
        }
        func number(_ key: String, in object: MetadataValue? = nil) throws -> Double {
            guard let number = try field(key, in: object).doubleValue else {
                throw MVLMError(.malformed, "'\(key)' is not a number", file: file, subject: "manifest verification")
            }
            return number
        }
        func integer(_ key: String) throws -> Int {
            guard let number = try field(key).intValue else {
                throw MVLMError(.malformed, "'\(key)' is not an integer", file: file, subject: "manifest verification")
            }
            return number
        }
        input = try field("input").stringValue ?? ""
        tokens = try integer("tokens")
        scoredPositions = try integer("scored_positions")
        let kld = try field("kld")
        kldMean = try number("mean", in: kld)
        kldP99 = try number("p99", in: kld)
        kldMax = try number("max", in: kld)
        top1Agreement = try number("top1_agreement")
        perplexityRatio = try number("perplexity_ratio")
        logitsCosine = try number("logits_cosine")
        guard case .bool(let passed) = try field("passed") else {
            throw MVLMError(.malformed, "'passed' is not true or false", file: file, subject: "manifest verification")
        }
        self.passed = passed
        if let layer = value["worst_layer"], let name = layer["name"]?.stringValue {
            worstLayer = Layer(name: name, snrDecibels: layer["snr_db"]?.doubleValue)
        }
        if let tensor = value["worst_tensor"], let name = tensor["name"]?.stringValue {
            worstTensor = WeightTensor(
                name: name, storedAs: tensor["stored_as"]?.stringValue ?? "", snrDecibels: tensor["snr_db"]?.doubleValue)
        }
    }
}
