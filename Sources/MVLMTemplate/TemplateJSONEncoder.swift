/// `json.dumps` as transformers' `tojson` filter calls it: `ensure_ascii=False` by default,
/// `indent` (spaces or a string; items then separated by "," and a newline), `separators`
/// (default ", " and ": ", or "," and ": " with an indent), `sort_keys`.
struct TemplateJSONEncoder {
    struct Failure: Error {
        var message: String
    }

    var indent: String?
    var separators: (String, String)?
    var sortKeys: Bool
    var ensureASCII: Bool
    var limit: Int
    var output = ""

    init(indent: String?, separators: (String, String)?, sortKeys: Bool, ensureASCII: Bool, limit: Int) {
        self.indent = indent
        self.separators = separators
        self.sortKeys = sortKeys
        self.ensureASCII = ensureASCII
        self.limit = limit
    }

    mutating func encode(_ value: TemplateValue) throws -> String {
        output = ""
        try write(value, level: 0, depth: 0)
        return output
    }

    mutating func append(_ text: String) throws {
        output += text
        if output.utf8.count > limit { throw Failure(message: "the JSON text exceeds \(limit) bytes") }
    }

    mutating func write(_ value: TemplateValue, level: Int, depth: Int) throws {
        guard depth < 200 else { throw Failure(message: "values nested deeper than 200 levels") }
        let itemSeparator = separators?.0 ?? (indent == nil ? ", " : ",")
        let keySeparator = separators?.1 ?? ": "
        switch value {
        case .none: try append("null")
        case .bool(let flag): try append(flag ? "true" : "false")
        case .int(let number): try append(String(number))
        case .double(let number):
            if number.isNaN { try append("NaN") } else if number.isInfinite { try append(number < 0 ? "-Infinity" : "Infinity") } else { try append(TemplateValue.pythonFloat(number)) }
        case .string(let text): try append(quote(text))
        case .list(let items), .tuple(let items):
            guard !items.isEmpty else { return try append("[]") }
            try append("[")
            for (position, item) in items.enumerated() {
                if position > 0 { try append(itemSeparator) }
                if let indent { try append("\n" + String(repeating: indent, count: level + 1)) }
                try write(item, level: level + 1, depth: depth + 1)
            }
            if let indent { try append("\n" + String(repeating: indent, count: level)) }
            try append("]")
        case .dict(let dict):
            try writeObject(dict, level: level, depth: depth, itemSeparator: itemSeparator, keySeparator: keySeparator)
        case .namespace:
            throw Failure(message: "Object of type Namespace is not JSON serializable")
        case .undefined:
            throw Failure(message: "Object of type Undefined is not JSON serializable")
        case .callable:
            throw Failure(message: "Object of type function is not JSON serializable")
        }
    }

    mutating func writeObject(_ dict: TemplateDict, level: Int, depth: Int, itemSeparator: String, keySeparator: String) throws {
        guard !dict.isEmpty else { return try append("{}") }
        var entries = dict.entries
        if sortKeys {
            entries.sort { a, b in
                switch (a.key, b.key) {
                case (.int(let x), .int(let y)): return x < y
                default: return a.key.value.pythonString.unicodeScalars.lexicographicallyPrecedes(b.key.value.pythonString.unicodeScalars) { $0.value < $1.value }
                }
            }
        }
        try append("{")
        for (position, entry) in entries.enumerated() {
            if position > 0 { try append(itemSeparator) }
            if let indent { try append("\n" + String(repeating: indent, count: level + 1)) }
            try append(quote(entry.key.value.pythonString) + keySeparator)
            try write(entry.value, level: level + 1, depth: depth + 1)
        }
        if let indent { try append("\n" + String(repeating: indent, count: level)) }
        try append("}")
    }

    func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7F) {
                    if scalar.value > 0xFFFF {
                        let value = scalar.value - 0x10000
                        out += "\\u" + TemplateValue.hex(0xD800 + (value >> 10), width: 4) + "\\u" + TemplateValue.hex(0xDC00 + (value & 0x3FF), width: 4)
                    } else {
                        out += "\\u" + TemplateValue.hex(scalar.value, width: 4)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
