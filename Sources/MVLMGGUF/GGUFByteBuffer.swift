import MVLMCore

/// The little-endian encoding of GGUF's header structures: integers, strings (a `uint64` byte
/// length and the UTF-8 bytes) and typed metadata values, appended to a byte array.
struct GGUFByteBuffer {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(contentsOf other: [UInt8]) {
        bytes.append(contentsOf: other)
    }

    mutating func appendString(_ string: String) {
        let utf8 = Array(string.utf8)
        append(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Appends `value` encoded as `type` (without the type tag; arrays with their element type and
    /// count).
    /// - Throws: `MVLMError` (`.invalidArgument`) when the value does not fit the type.
    mutating func appendValue(_ value: MetadataValue, type: GGUFValueType) throws {
        func mismatch() -> MVLMError {
            MVLMError(.invalidArgument, "value \(value.summary(maxArrayItems: 3)) does not fit GGUF type \(type)")
        }
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            switch value {
            case .int(let number): guard let exact = T(exactly: number) else { throw mismatch() }; return exact
            case .uint(let number): guard let exact = T(exactly: number) else { throw mismatch() }; return exact
            default: throw mismatch()
            }
        }
        switch type {
        case .uint8: append(try integer(UInt8.self))
        case .int8: append(try integer(Int8.self))
        case .uint16: append(try integer(UInt16.self))
        case .int16: append(try integer(Int16.self))
        case .uint32: append(try integer(UInt32.self))
        case .int32: append(try integer(Int32.self))
        case .uint64: append(try integer(UInt64.self))
        case .int64: append(try integer(Int64.self))
        case .bool:
            guard case .bool(let flag) = value else { throw mismatch() }
            append(UInt8(flag ? 1 : 0))
        case .float32:
            guard let number = value.doubleValue else { throw mismatch() }
            append(Float(number).bitPattern)
        case .float64:
            guard let number = value.doubleValue else { throw mismatch() }
            append(number.bitPattern)
        case .string:
            guard let string = value.stringValue else { throw mismatch() }
            appendString(string)
        case .array:
            guard case .array(let elements, let elementTypeName) = value, let elementType = Self.type(named: elementTypeName) else {
                throw MVLMError(
                    .invalidArgument,
                    "an ARRAY value must be .array(values, elementType:) with a GGUF type name (UINT32, STRING, ...), not \(value.summary(maxArrayItems: 3))")
            }
            append(elementType.rawValue)
            try appendArrayBody(elements, type: elementType)
        }
    }

    /// The count and elements of an array whose element type tag is already written; nested
    /// arrays carry their own tag, count and elements.
    private mutating func appendArrayBody(_ elements: [MetadataValue], type: GGUFValueType) throws {
        append(UInt64(elements.count))
        for element in elements {
            guard type == .array else {
                try appendValue(element, type: type)
                continue
            }
            guard case .array(let inner, let name) = element, let innerType = Self.type(named: name) else {
                throw MVLMError(.invalidArgument, "an element of a nested ARRAY is not an array with a GGUF element type")
            }
            append(innerType.rawValue)
            try appendArrayBody(inner, type: innerType)
        }
    }

    static func type(named name: String) -> GGUFValueType? {
        GGUFValueType.allCases.first { $0.name == name }
    }
}
