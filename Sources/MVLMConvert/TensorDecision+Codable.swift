import Foundation
import MVLMCore

/// The one encoding of a decision, shared by `convert --dry-run --json` and the manifest's
/// `quantization.decisions` (Formats/mvlm.md): types by name (`"source_dtype": "BF16"`,
/// `"storage": "Q4_K"` or `"keep"`, `"output_dtype": "Q4_K"`), `layout` only when not row-major
/// (`"rows16"`).
///
/// Files written before 2026-12-08 recorded a shorter decision, `{name, role, provenancedtype,
/// storage, reason, fallback}`, where `storage` named the output dtype; decoding reads that too
/// (the storage then is the type the output dtype names, and shape, bytes and sources are unknown:
/// `[]`, 0 and the tensor's own name).
extension TensorDecision: Codable {
    enum CodingKeys: String, CodingKey {
        case name
        case sourceNames = "source_names"
        case sourceRows = "source_rows"
        case role, layer
        case sourceDType = "source_dtype"
        case shape, storage
        case outputDType = "output_dtype"
        case reason, fallback, bytes, layout
    }

    /// The key older manifests used for `source_dtype`.
    private enum LegacyKeys: String, CodingKey {
        case sourceDType = "provenancedtype"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(sourceNames, forKey: .sourceNames)
        try container.encodeIfPresent(sourceRows, forKey: .sourceRows)
        try container.encode(role, forKey: .role)
        try container.encodeIfPresent(layer, forKey: .layer)
        try container.encode(sourceDType, forKey: .sourceDType)
        try container.encode(shape, forKey: .shape)
        try container.encode(storage, forKey: .storage)
        try container.encode(outputDType, forKey: .outputDType)
        try container.encode(reason, forKey: .reason)
        try container.encodeIfPresent(fallback, forKey: .fallback)
        try container.encode(bytes, forKey: .bytes)
        if layout != .rowMajor { try container.encode(layout.rawValue, forKey: .layout) }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let legacy = try decoder.container(keyedBy: LegacyKeys.self)
        name = try container.decode(String.self, forKey: .name)
        sourceNames = try container.decodeIfPresent([String].self, forKey: .sourceNames) ?? [name]
        sourceRows = try container.decodeIfPresent([[Int]].self, forKey: .sourceRows)
        role = try container.decode(TensorRole.self, forKey: .role)
        layer = try container.decodeIfPresent(Int.self, forKey: .layer)
        if let source = try container.decodeIfPresent(DType.self, forKey: .sourceDType) {
            sourceDType = source
        } else {
            sourceDType = try legacy.decode(DType.self, forKey: .sourceDType)
        }
        shape = try container.decodeIfPresent([Int].self, forKey: .shape) ?? []
        if let output = try container.decodeIfPresent(DType.self, forKey: .outputDType) {
            outputDType = output
            storage = try container.decode(StorageType.self, forKey: .storage)
        } else {
            // The old record: `storage` is the output dtype's name.
            outputDType = try container.decode(DType.self, forKey: .storage)
            storage = StorageType(name: outputDType.name) ?? .keep
        }
        reason = try container.decode(String.self, forKey: .reason)
        fallback = try container.decodeIfPresent(String.self, forKey: .fallback)
        bytes = try container.decodeIfPresent(Int.self, forKey: .bytes) ?? 0
        if let name = try container.decodeIfPresent(String.self, forKey: .layout) {
            guard let layout = TensorLayout(rawValue: name) else {
                throw DecodingError.dataCorruptedError(forKey: .layout, in: container, debugDescription: "unknown layout '\(name)'")
            }
            self.layout = layout
        } else {
            layout = .rowMajor
        }
    }

    /// The decision as a manifest value (the same JSON as `--dry-run --json` prints for it).
    public var manifestValue: MetadataValue {
        get throws {
            try JSONDecoder().decode(MetadataValue.self, from: JSONEncoder().encode(self))
        }
    }

    /// The decisions recorded in a manifest's `quantization` object (any version's records).
    /// - Throws: `MVLMError` (`.malformed`) when a record cannot be read.
    public static func decisions(inQuantizationRecord record: MetadataValue?) throws -> [TensorDecision] {
        guard case .object(let recipe)? = record, let list = recipe["decisions"] else { return [] }
        do {
            return try JSONDecoder().decode([TensorDecision].self, from: JSONEncoder().encode(list))
        } catch {
            throw MVLMError(.malformed, "the manifest's quantization.decisions cannot be read: \(error)")
        }
    }
}
