import MVLMCore

/// The JSON manifest of an `.mvlm` file: what the model is, how to run it, how it was made, and
/// where every tensor lies (Formats/mvlm.md, "Manifest").
///
/// Sections that later stages of the toolkit define (graph, tokenizer, image preprocessing,
/// quantization recipe, verification summary) are JSON values here, so the container stays stable
/// while they grow; each is specified in Formats/mvlm.md.
public struct ModelManifest: Codable, Sendable, Equatable {
    /// One tensor's place in the file.
    public struct TensorEntry: Codable, Sendable, Equatable {
        /// The tensor's name in the file (the graph's weight name).
        public var name: String
        /// Storage type: a safetensors scalar name (`F16`) or a block type name (`Q4_K`).
        public var dtype: String
        /// Logical shape, row-major.
        public var shape: [Int]
        /// Absolute byte offset in the file (a multiple of 64).
        public var offset: Int
        /// Byte count.
        public var bytes: Int
        /// CRC-32 (zip polynomial) of the tensor's bytes; in JSON 8 lowercase hex digits (fixed width,
        /// so the manifest's size is known before the data is written).
        public var crc32: UInt32
        /// Where the data came from in the source checkpoint: names as downloaded, and for fused
        /// tensors which rows each one supplied (`{"name": ..., "rows": [begin, end]}`).
        public var source: [MetadataValue]
        /// Layout facts for the runtime: `{}` for plain row-major, `{"kind": "rows16"}` for a matrix
        /// in the repacked rows16 layout (Formats/mvlm.md, "Repacked layouts: rows16").
        public var layout: [String: MetadataValue]

        enum CodingKeys: String, CodingKey {
            case name, dtype, shape, offset, bytes, crc32, source, layout
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            dtype = try container.decode(String.self, forKey: .dtype)
            shape = try container.decode([Int].self, forKey: .shape)
            offset = try container.decode(Int.self, forKey: .offset)
            bytes = try container.decode(Int.self, forKey: .bytes)
            let hex = try container.decode(String.self, forKey: .crc32)
            guard hex.count == 8, let value = UInt32(hex, radix: 16) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .crc32, in: container, debugDescription: "crc32 must be 8 hex digits, not '\(hex)'")
            }
            crc32 = value
            source = try container.decode([MetadataValue].self, forKey: .source)
            layout = try container.decode([String: MetadataValue].self, forKey: .layout)
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(dtype, forKey: .dtype)
            try container.encode(shape, forKey: .shape)
            try container.encode(offset, forKey: .offset)
            try container.encode(bytes, forKey: .bytes)
            let digits = String(crc32, radix: 16)
            try container.encode(String(repeating: "0", count: 8 - digits.count) + digits, forKey: .crc32)
            try container.encode(source, forKey: .source)
            try container.encode(layout, forKey: .layout)
        }

        public init(
            name: String, dtype: String, shape: [Int], offset: Int, bytes: Int, crc32: UInt32,
            source: [MetadataValue] = [], layout: [String: MetadataValue] = [:]
        ) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.offset = offset
            self.bytes = bytes
            self.crc32 = crc32
            self.source = source
            self.layout = layout
        }
    }

    /// `mvlm`.
    public var format = "mvlm"
    /// Recognized architecture (`llama`, `mobilevlm-v2`, ...).
    public var architecture: String
    /// The model's configuration (config.json as read, plus derived fields).
    public var config: [String: MetadataValue]
    public var graph: MetadataValue?
    public var tokenizer: MetadataValue?
    public var imagePreprocessing: MetadataValue?
    /// The quantization recipe and every per-tensor decision.
    public var quantization: MetadataValue?
    /// The source checkpoint's identity: format, file names, sizes and SHA-256 hashes.
    public var source: MetadataValue?
    /// Summary of the verification run at conversion time, if any.
    public var verification: MetadataValue?
    /// Free-form producer facts (`producer`: "mvlm 0.1", ...). Never timestamps: output is reproducible.
    public var metadata: [String: MetadataValue]
    public var tensors: [TensorEntry]

    enum CodingKeys: String, CodingKey {
        case format, architecture, config, graph, tokenizer
        case imagePreprocessing = "image_preprocessing"
        case quantization, source, verification, metadata, tensors
    }

    public init(architecture: String, config: [String: MetadataValue] = [:], metadata: [String: MetadataValue] = [:]) {
        self.architecture = architecture
        self.config = config
        self.metadata = metadata
        self.tensors = []
    }
}
