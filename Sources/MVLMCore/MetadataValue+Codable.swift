extension MetadataValue: Codable {
    /// Decodes any JSON value (config.json, index files). Integers stay integers: signed when they
    /// fit `Int64`, else unsigned; other numbers become `.float`.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .uint(value)
        } else if let value = try? container.decode(Double.self) {
            self = .float(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([MetadataValue].self) {
            self = .array(value, elementType: "JSON")
        } else if let value = try? container.decode([String: MetadataValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    /// Encodes as plain JSON. Non-finite floats become the strings "nan", "inf", "-inf".
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .uint(let value): try container.encode(value)
        case .float(let value):
            if value.isFinite { try container.encode(value) } else {
                try container.encode(value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"))
            }
        case .string(let value): try container.encode(value)
        case .array(let values, _): try container.encode(values)
        case .object(let members): try container.encode(members)
        }
    }
}
