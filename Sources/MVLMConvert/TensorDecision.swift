import MVLMCore

/// What the converter does with one source tensor: recorded in the plan, printed by `--dry-run`,
/// and stored in the output file's manifest (`quantization.decisions`), in one encoding (below).
public struct TensorDecision: Sendable, Hashable {
    /// The tensor's name in the output file.
    public var name: String
    /// The source tensors it is made from (names as downloaded), in the order their rows appear.
    public var sourceNames: [String]
    /// For a fused tensor, the output rows each source fills (`[begin, end]`, same order).
    public var sourceRows: [[Int]]?
    public var role: TensorRole
    public var layer: Int?
    /// The source's dtype (`F16`, `BF16`, `Q4_1`, ...).
    public var sourceDType: DType
    public var shape: [Int]
    /// The storage chosen: kept, cast to a float type, or quantized with a scheme.
    public var storage: StorageType
    /// The dtype written to the file (`Q4_K`, `F16`; the source dtype for `keep`).
    public var outputDType: DType
    /// Why: the preset rule, an override, or a fallback.
    public var reason: String
    /// Set when the preferred type did not fit the shape: what was preferred and why it was replaced.
    public var fallback: String?
    /// Bytes in the output file.
    public var bytes: Int
    /// The stored layout, set by `LayoutPass` (row-major until then).
    public var layout: TensorLayout

    public init(
        name: String, sourceNames: [String], sourceRows: [[Int]]? = nil, role: TensorRole, layer: Int?,
        sourceDType: DType, shape: [Int], storage: StorageType, outputDType: DType, reason: String,
        fallback: String? = nil, bytes: Int, layout: TensorLayout = .rowMajor
    ) {
        self.name = name
        self.sourceNames = sourceNames
        self.sourceRows = sourceRows
        self.role = role
        self.layer = layer
        self.sourceDType = sourceDType
        self.shape = shape
        self.storage = storage
        self.outputDType = outputDType
        self.reason = reason
        self.fallback = fallback
        self.bytes = bytes
        self.layout = layout
    }

    /// The stored layout (the same as `layout`; kept for callers written before it was typed).
    public var storedLayout: TensorLayout { layout }

    /// The tensor entry's `layout` object in an .mvlm manifest: `{}` for row-major,
    /// `{"kind": "rows16"}` (Formats/mvlm.md).
    public var manifestLayout: [String: MetadataValue] {
        layout == .rowMajor ? [:] : ["kind": .string(layout.rawValue)]
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
