import MVLMCore

/// Typed access to GGUF metadata.
extension GGUFReader {
    /// The declared GGUF type of the value at `key`, or `nil` when the key is absent.
    public func metadataType(forKey key: String) -> GGUFValueType? {
        metadataTypes[key]
    }

    /// The STRING value at `key`, or `nil` when absent or of another type.
    public func string(forKey key: String) -> String? {
        metadata[key]?.stringValue
    }

    /// The integer value at `key` (any of the eight integer types), or `nil` when absent, of
    /// another type, or a UINT64 above `Int.max`.
    public func integer(forKey key: String) -> Int? {
        switch metadata[key] {
        case .int(let value): Int(exactly: value)
        case .uint(let value): Int(exactly: value)
        default: nil
        }
    }

    /// The numeric value at `key` (FLOAT32 or FLOAT64, or an integer) as a Double.
    public func double(forKey key: String) -> Double? {
        metadata[key]?.doubleValue
    }

    /// The BOOL value at `key`, or `nil` when absent or of another type.
    public func bool(forKey key: String) -> Bool? {
        if case .bool(let value) = metadata[key] { return value }
        return nil
    }

    /// The elements of the array of STRING at `key` (e.g. `tokenizer.ggml.tokens`), or `nil`
    /// when absent or not an array of strings.
    public func strings(forKey key: String) -> [String]? {
        guard case .array(let values, let elementType) = metadata[key],
            elementType == GGUFValueType.string.name
        else { return nil }
        return values.map { $0.stringValue ?? "" }
    }

    /// `general.architecture` (`llama`, `clip`, ...), if present.
    public var architecture: String? { string(forKey: "general.architecture") }
}
