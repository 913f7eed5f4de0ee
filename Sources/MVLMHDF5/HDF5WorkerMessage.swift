import Foundation
import MVLMCore

/// What the HDF5 worker process hands back to `HDF5Reader`: the catalogue (or an error), as JSON
/// on the worker's standard output. Tagged so that every value survives the trip exactly
/// (integer signedness, GGUF-style array element names, non-finite floats).
struct HDF5WorkerMessage: Codable, Sendable {
    /// The detected layout's name (`HDF5Layout.rawValue`).
    var layout: String?
    var metadata: [String: WireValue]?
    var entries: [HDF5Entry]?
    /// Datasets listed but refused, with why.
    var refused: [String: WireError]?
    /// Set instead of everything else when listing failed.
    var error: WireError?

    /// An `MVLMError` on the wire.
    struct WireError: Codable, Sendable {
        var code: String
        var message: String
        var subject: String?

        init(_ error: MVLMError) {
            code = error.code.rawValue
            message = error.message
            subject = error.subject
        }

        /// The error, attributed to `file` (the path as the parent's caller named it).
        func error(file: String) -> MVLMError {
            MVLMError(MVLMError.Code(code), message, file: file, subject: subject)
        }
    }

    /// A `MetadataValue` on the wire: one key names the case.
    indirect enum WireValue: Codable, Sendable {
        case bool(Bool)
        case int(Int64)
        case uint(UInt64)
        /// A float as its bit pattern, so NaN payloads and infinities survive JSON.
        case float(UInt64)
        case string(String)
        case array([WireValue], elementType: String)
        case object([String: WireValue])
        case null

        init(_ value: MetadataValue) {
            switch value {
            case .bool(let value): self = .bool(value)
            case .int(let value): self = .int(value)
            case .uint(let value): self = .uint(value)
            case .float(let value): self = .float(value.bitPattern)
            case .string(let value): self = .string(value)
            case .array(let values, let elementType):
                self = .array(values.map(WireValue.init), elementType: elementType)
            case .object(let members): self = .object(members.mapValues(WireValue.init))
            case .null: self = .null
            }
        }

        var value: MetadataValue {
            switch self {
            case .bool(let value): .bool(value)
            case .int(let value): .int(value)
            case .uint(let value): .uint(value)
            case .float(let bits): .float(Double(bitPattern: bits))
            case .string(let value): .string(value)
            case .array(let values, let elementType):
                .array(values.map(\.value), elementType: elementType)
            case .object(let members): .object(members.mapValues(\.value))
            case .null: .null
            }
        }
    }
}

extension HDF5ElementType: Codable {
    private enum CodingKeys: String, CodingKey {
        case dtype, isStoredLittleEndian, convertsByteOrder
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .dtype)
        guard let dtype = DType(name: name), dtype.scalarByteSize != nil else {
            throw DecodingError.dataCorruptedError(
                forKey: .dtype, in: container, debugDescription: "unknown dtype \(name)")
        }
        self.dtype = dtype
        isStoredLittleEndian = try container.decode(Bool.self, forKey: .isStoredLittleEndian)
        convertsByteOrder = try container.decode(Bool.self, forKey: .convertsByteOrder)
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dtype.name, forKey: .dtype)
        try container.encode(isStoredLittleEndian, forKey: .isStoredLittleEndian)
        try container.encode(convertsByteOrder, forKey: .convertsByteOrder)
    }
}
