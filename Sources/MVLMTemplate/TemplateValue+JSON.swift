import MVLMCore

extension TemplateValue {
    /// The value of a JSON text as Python's `json.loads` gives it: objects keep their key order,
    /// numbers without a fraction or exponent are ints, the others floats.
    ///
    /// - Parameters:
    ///   - json: UTF-8 JSON text.
    ///   - context: how errors name the text (a file name).
    /// - Throws: `MVLMError` (`.malformed`) with the byte offset of the first error; nesting is
    ///   limited to 200 levels.
    public init(json: [UInt8], context: String = "JSON") throws {
        var parser = JSONParser(bytes: json, context: context)
        parser.skipSpace()
        self = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == json.count else { throw parser.fail("unexpected data after the JSON value") }
    }

    /// The value of a JSON text given as a string (see `init(json:context:)`).
    public init(jsonText: String, context: String = "JSON") throws {
        try self.init(json: Array(jsonText.utf8), context: context)
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let context: String
    var position = 0

    init(bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.context = context
    }

    func fail(_ message: String) -> MVLMError {
        MVLMError(.malformed, "\(message) at byte \(position)", file: context)
    }

    mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func literal(_ word: String, _ value: TemplateValue) throws -> TemplateValue {
        let utf8 = Array(word.utf8)
        guard position + utf8.count <= bytes.count, Array(bytes[position..<(position + utf8.count)]) == utf8 else {
            throw fail("invalid literal")
        }
        position += utf8.count
        return value
    }

    mutating func value(depth: Int) throws -> TemplateValue {
        guard depth < 200 else { throw fail("nesting deeper than 200 levels") }
        guard position < bytes.count else { throw fail("unexpected end of the text") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            position += 1
            var dict = TemplateDict()
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .dict(dict)
            }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                position += 1
                skipSpace()
                dict[key] = try value(depth: depth + 1)
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of the text in an object") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                guard bytes[position] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                position += 1
                return .dict(dict)
            }
        case UInt8(ascii: "["):
            position += 1
            var items: [TemplateValue] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .list(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of the text in an array") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                guard bytes[position] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                position += 1
                return .list(items)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .none)
        default:
            return try number()
        }
    }

    mutating func number() throws -> TemplateValue {
        let start = position
        var isFloat = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        while position < bytes.count {
            let byte = bytes[position]
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                position += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || ((byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && isFloat) {
                isFloat = true
                position += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if !isFloat, let integer = Int(text) { return .int(integer) }
        guard let number = Double(text), !text.isEmpty, text != "-" else { throw fail("invalid value") }
        return .double(number)
    }

    mutating func hex4() throws -> UInt32 {
        guard position + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16) else {
            throw fail("invalid \\u escape")
        }
        position += 4
        return value
    }

    mutating func string() throws -> String {
        position += 1
        var out: [UInt8] = []
        while true {
            guard position < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw fail("control character in a string") }
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            guard position < bytes.count else { throw fail("unterminated escape") }
            let escaped = bytes[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                    let save = position
                    position += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = save
                    }
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                out += Array(String(scalar).utf8)
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(escaped)))'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
