import MVLMCore

/// A bounds-checked reader of the protocol-buffers wire format, enough for SentencePiece's
/// `ModelProto` (no code generation, no reflection).
///
/// Every length, tag and varint is checked against the bytes that remain before it is used;
/// malformed input throws `MVLMError` naming `context` (the file), the message path and the offset.
/// Groups (wire types 3 and 4, deprecated since proto2) are rejected: SentencePiece never writes them.
struct ProtobufReader {
    /// The six wire types; 3 and 4 are the deprecated groups.
    enum WireType: UInt8, CustomStringConvertible {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5

        var description: String {
            switch self {
            case .varint: "varint"
            case .fixed64: "fixed64"
            case .lengthDelimited: "length-delimited"
            case .startGroup: "start-group"
            case .endGroup: "end-group"
            case .fixed32: "fixed32"
            }
        }
    }

    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    /// The file, for error messages.
    let context: String
    /// The message being read (`ModelProto.pieces[3]`), for error messages.
    let path: String

    init(bytes: [UInt8], context: String, path: String) {
        self.init(bytes: bytes, range: 0..<bytes.count, context: context, path: path)
    }

    private init(bytes: [UInt8], range: Range<Int>, context: String, path: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.context = context
        self.path = path
    }

    var isAtEnd: Bool { position >= end }

    private func error(_ code: MVLMError.Code, _ message: String) -> MVLMError {
        MVLMError(code, "\(message) (at byte \(position))", file: context, subject: path)
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (number: Int, wireType: WireType)? {
        if isAtEnd { return nil }
        let tag = try readVarint()
        let number = tag >> 3
        guard number >= 1, number <= 536_870_911 else {
            throw error(.malformed, "field number \(number) out of range 1...536870911 in a tag")
        }
        guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw error(.malformed, "field \(number) has wire type \(tag & 7); valid wire types are 0, 1, 2, 5")
        }
        if wireType == .startGroup || wireType == .endGroup {
            throw error(.malformed, "field \(number) uses a protobuf group (wire type \(wireType.rawValue)), which SentencePiece never writes")
        }
        return (Int(number), wireType)
    }

    /// Reads a base-128 varint of at most 10 bytes.
    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw error(.truncated, "message ends inside a varint") }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 {
                throw error(.malformed, "varint longer than 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw error(.malformed, "varint longer than 10 bytes") }
        }
    }

    mutating func readFixed32() throws -> UInt32 {
        guard end - position >= 4 else { throw error(.truncated, "message ends inside a fixed32 value") }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[position + index]) << (8 * UInt32(index)) }
        position += 4
        return value
    }

    mutating func readFixed64() throws -> UInt64 {
        guard end - position >= 8 else { throw error(.truncated, "message ends inside a fixed64 value") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += 8
        return value
    }

    /// Reads a length prefix and returns the range of the bytes it covers, after checking that they
    /// lie inside the current message.
    mutating func readLengthDelimited() throws -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw error(.truncated, "length-delimited field declares \(length) bytes but only \(end - position) remain")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// Skips a field's value of the given wire type.
    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup: throw error(.malformed, "unexpected protobuf group")
        }
    }

    /// Throws unless `actual` is `expected`: a field with the wrong wire type is malformed.
    func require(_ actual: WireType, _ expected: WireType, field: String) throws {
        guard actual == expected else {
            throw error(.malformed, "field '\(field)' has wire type \(actual), expected \(expected)")
        }
    }

    /// A reader of the embedded message in the next length-delimited value.
    mutating func readMessage(path: String) throws -> ProtobufReader {
        let range = try readLengthDelimited()
        return ProtobufReader(bytes: bytes, range: range, context: context, path: path)
    }

    /// The raw bytes of the next length-delimited value.
    mutating func readBytes() throws -> ArraySlice<UInt8> {
        bytes[try readLengthDelimited()]
    }

    /// The next length-delimited value as a UTF-8 string; invalid UTF-8 is malformed.
    mutating func readString(field: String) throws -> String {
        let slice = try readBytes()
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw error(.malformed, "field '\(field)' is not valid UTF-8")
        }
        return string
    }

    /// A proto `int32` (a varint whose low 32 bits are the two's-complement value).
    mutating func readInt32() throws -> Int32 {
        Int32(truncatingIfNeeded: try readVarint())
    }

    mutating func readBool() throws -> Bool {
        try readVarint() != 0
    }

    mutating func readFloat() throws -> Float {
        Float(bitPattern: try readFixed32())
    }
}
