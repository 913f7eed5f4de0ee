/// The type tag of a GGUF metadata value (`gguf_type` in ggml), as stored in the file.
///
/// Scalars are little-endian; `bool` is one byte that must be 0 or 1; `string` is a `uint64`
/// byte length followed by UTF-8 bytes (no terminator); `array` is a `uint32` element type, a
/// `uint64` element count and the elements, packed (arrays may nest).
public enum GGUFValueType: UInt32, Hashable, Sendable, CaseIterable {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    case bool = 7
    case string = 8
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    /// The name as the GGUF specification and gguf-py spell it (`UINT32`, `STRING`, ...).
    public var name: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }

    /// Encoded size of a scalar value; `nil` for `string` and `array`.
    var fixedByteSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes one value of this type can occupy (a string's length field, an array's
    /// element type and count). Used to bound counts against the bytes left in a file.
    var minimumByteSize: Int {
        switch self {
        case .string: 8
        case .array: 12
        default: fixedByteSize!
        }
    }
}

extension GGUFValueType: CustomStringConvertible {
    public var description: String { name }
}
