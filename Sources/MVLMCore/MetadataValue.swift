/// A metadata value from a checkpoint: safetensors `__metadata__`, GGUF key-value pairs, HDF5
/// attributes, config.json. JSON-shaped, keeping integer signedness and GGUF's typed arrays.
public indirect enum MetadataValue: Hashable, Sendable {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Double)
    case string(String)
    /// An array with the name of its element type as the format declares it (e.g. GGUF `UINT32`).
    case array([MetadataValue], elementType: String)
    case object([String: MetadataValue])
    case null

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let value): Int(exactly: value)
        case .uint(let value): Int(exactly: value)
        case .float(let value): Int(exactly: value)
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .uint(let value): Double(value)
        case .float(let value): value
        default: nil
        }
    }

    public var arrayValue: [MetadataValue]? {
        if case .array(let values, _) = self { return values }
        return nil
    }

    public subscript(key: String) -> MetadataValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// A short human-readable rendering; long arrays are summarized.
    public func summary(maxArrayItems: Int = 8) -> String {
        switch self {
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .uint(let value): return String(value)
        case .float(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .null: return "null"
        case .array(let values, let elementType):
            let shown = values.prefix(maxArrayItems).map { $0.summary(maxArrayItems: 3) }
            let more = values.count > maxArrayItems ? ", ... (\(values.count) \(elementType))" : ""
            return "[" + shown.joined(separator: ", ") + more + "]"
        case .object(let members):
            let shown = members.keys.sorted().prefix(maxArrayItems).map {
                "\($0): \(members[$0]!.summary(maxArrayItems: 3))"
            }
            return "{" + shown.joined(separator: ", ") + (members.count > maxArrayItems ? ", ..." : "") + "}"
        }
    }
}
