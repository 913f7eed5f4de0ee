import MVLMCore

/// What the converter does with one source tensor: recorded in the plan, printed by `--dry-run`,
/// and stored in the output file's manifest.
public struct TensorDecision: Sendable, Hashable, Codable {
    /// The tensor's name in the output file.
    public var name: String
    /// The source tensors it is made from (names as downloaded), in the order their rows appear.
    public var sourceNames: [String]
    /// For a fused tensor, the output rows each source fills (`[begin, end]`, same order).
    public var sourceRows: [[Int]]?
    public var role: TensorRole
    public var layer: Int?
    /// The source's dtype name (`F16`, `BF16`, `Q4_1`, ...).
    public var sourceDType: String
    public var shape: [Int]
    /// The storage chosen (`F32`, `F16`, `Q4_K`, `INT8_PC`, `keep`...).
    public var storage: String
    /// The dtype written to the file (`Q4_K`, `F16`; the source dtype for `keep`).
    public var outputDType: String
    /// Why: the preset rule, an override, or a fallback.
    public var reason: String
    /// Set when the preferred type did not fit the shape: what was preferred and why it was replaced.
    public var fallback: String?
    /// Bytes in the output file.
    public var bytes: Int
    /// The stored layout (`TensorLayout` raw value, `rows16`), set by `LayoutPass`; nil is row-major.
    public var layout: String?

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

    /// The stored layout.
    public var storedLayout: TensorLayout { layout.flatMap(TensorLayout.init(rawValue:)) ?? .rowMajor }

    /// The tensor entry's `layout` object in an .mvlm manifest: `{}` for row-major,
    /// `{"kind": "rows16"}` (Formats/mvlm.md).
    public var manifestLayout: [String: MetadataValue] {
        storedLayout == .rowMajor ? [:] : ["kind": .string(storedLayout.rawValue)]
    }

    /// Elements in the tensor.
    public var elementCount: Int { Shape.elementCount(shape) ?? 0 }
}

extension TensorDecision {
    /// Where the data came from, as recorded in the .mvlm manifest: names, and for fused tensors
    /// `{"name": ..., "rows": [begin, end]}` objects.
    public var provenance: [MetadataValue] {
        guard let rows = sourceRows else { return sourceNames.map { .string($0) } }
        return zip(sourceNames, rows).map { name, range in
            .object(["name": .string(name), "rows": .array(range.map { .int(Int64($0)) }, elementType: "JSON")])
        }
    }
}
