import MVLMCore

/// One metadata key-value pair as a GGUF file stores it, with its declared value type.
///
/// `MetadataValue` folds all unsigned widths into `.uint` and all signed widths into `.int`; the
/// `type` recorded here keeps the exact GGUF type (`UINT32` vs `UINT64`), which a writer needs to
/// reproduce the file and which `general.alignment` must have.
public struct GGUFMetadataEntry: Hashable, Sendable {
    /// The key (`general.architecture`, `tokenizer.ggml.tokens`, ...).
    public let key: String
    /// The declared type of the value (for arrays: `.array`; the element type is in `value`).
    public let type: GGUFValueType
    /// The decoded value. Arrays are `.array(elements, elementType: "UINT32")` with the element
    /// type's GGUF name; nested arrays have element type `"ARRAY"`.
    public let value: MetadataValue

    /// Creates an entry (the reader makes these; a writer may too).
    public init(key: String, type: GGUFValueType, value: MetadataValue) {
        self.key = key
        self.type = type
        self.value = value
    }
}
