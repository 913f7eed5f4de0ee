/// A value a chat template computes with, modelled on the Python values jinja2 handles for
/// transformers: `None`, booleans, integers, floats, strings, lists, dicts (insertion-ordered, as
/// Python's are), `namespace()` objects, callables (macros, built-in functions, bound methods)
/// and jinja2's `Undefined`.
///
/// Printing (`pythonString`), `repr` (`pythonRepr`), truth, equality and ordering follow Python,
/// so a template renders the same bytes as it does under jinja2.
public indirect enum TemplateValue: Sendable {
    /// jinja2's `Undefined`: prints as "", is false, iterates as empty; `name` is what was looked up.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    /// A Python tuple: `(a, b)` literals, `items()` pairs; like a list except that it prints as
    /// `(a, b)` and never equals a list.
    case tuple([TemplateValue])
    case dict(TemplateDict)
    /// A `namespace()` object: the one mutable value (attribute assignment through `set`).
    case namespace(TemplateNamespace)
    case callable(TemplateCallable)

    /// Python's truth value.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let value): value
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .string(let value): !value.isEmpty
        case .list(let value), .tuple(let value): !value.isEmpty
        case .dict(let value): !value.isEmpty
        case .namespace, .callable: true
        }
    }

    public var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// The Python type name, for error messages.
    public var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .namespace: "Namespace"
        case .callable: "function"
        }
    }

    /// `str(value)` as Python writes it (what `{{ value }}` prints; undefined prints as "").
    public var pythonString: String {
        switch self {
        case .undefined: ""
        case .string(let value): value
        default: pythonRepr
        }
    }

    /// `repr(value)` as Python writes it (how lists and dicts print their elements).
    public var pythonRepr: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .bool(let value): value ? "True" : "False"
        case .int(let value): String(value)
        case .double(let value): Self.pythonFloat(value)
        case .string(let value): Self.pythonStringRepr(value)
        case .list(let items): "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .tuple(let items): "(" + items.map(\.pythonRepr).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .dict(let dict):
            "{" + dict.entries.map { $0.key.value.pythonRepr + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
        case .namespace(let namespace):
            "<Namespace " + namespace.attributes.entries.map { $0.key.value.pythonString + "=" + $0.value.pythonRepr }.joined(separator: ", ") + ">"
        case .callable(let callable): "<function \(callable.name)>"
        }
    }

    /// Python's `repr(float)`: the shortest round-trip digits, `.0` on integral values, exponent
    /// form below 1e-4 and from 1e16.
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e16) {
            // Swift writes "1e-05" / "1e+16" as Python does; it may write "1.5e-05" the same way.
            var text = "\(value)"
            if let e = text.firstIndex(of: "e") {
                let mantissa = text[..<e], exponent = text[text.index(after: e)...]
                var digits = String(exponent)
                var sign = "+"
                if digits.hasPrefix("-") { sign = "-"; digits.removeFirst() } else if digits.hasPrefix("+") { digits.removeFirst() }
                if digits.count < 2 { digits = "0" + digits }
                var m = String(mantissa)
                if m.hasSuffix(".0") { m.removeLast(2) }
                text = m + "e" + sign + digits
            }
            return text
        }
        var text = "\(value)"
        if text.contains("e") {  // Swift uses exponents where Python does not (e.g. 1e+15)
            text = String(format: "%.1f", value)
        }
        return text
    }

    /// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`.
    static func pythonStringRepr(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if !isPrintable(scalar) {
                    out += scalar.value <= 0xFF ? "\\x" + hex(scalar.value, width: 2)
                        : scalar.value <= 0xFFFF ? "\\u" + hex(scalar.value, width: 4) : "\\U" + hex(scalar.value, width: 8)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + String(quote)
    }

    /// Python's `str.isprintable` for one scalar, approximated by Unicode categories.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// An insertion-ordered dictionary, as Python's dict keeps order, with string or integer keys.
public struct TemplateDict: Sendable {
    /// A key: Python's hashable values that templates use (bools and integral floats are ints,
    /// as Python hashes them).
    public enum Key: Hashable, Sendable {
        case string(String)
        case int(Int)

        public init?(_ value: TemplateValue) {
            switch value {
            case .string(let text): self = .string(text)
            case .int(let number): self = .int(number)
            case .bool(let flag): self = .int(flag ? 1 : 0)
            case .double(let number):
                guard let exact = Int(exactly: number) else { return nil }
                self = .int(exact)
            default: return nil
            }
        }

        public var value: TemplateValue {
            switch self {
            case .string(let text): .string(text)
            case .int(let number): .int(number)
            }
        }
    }

    public private(set) var entries: [(key: Key, value: TemplateValue)] = []
    private var index: [Key: Int] = [:]

    public init() {}

    public init(_ pairs: [(String, TemplateValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var keys: [Key] { entries.map(\.key) }

    public subscript(key: String) -> TemplateValue? {
        get { self[Key.string(key)] }
        set { self[Key.string(key)] = newValue }
    }

    public subscript(key: Key) -> TemplateValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let position = index[key] {
                if let newValue { entries[position].value = newValue } else { remove(key) }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    /// Replaces the value of the entry at `position` (no hashing: the loop object's fast path).
    mutating func setValue(_ value: TemplateValue, atEntry position: Int) {
        entries[position].value = value
    }

    private mutating func remove(_ key: Key) {
        guard let position = index[key] else { return }
        entries.remove(at: position)
        index = [:]
        for (offset, entry) in entries.enumerated() { index[entry.key] = offset }
    }
}

/// A `namespace()` object: attributes a template may assign inside loops.
public final class TemplateNamespace: @unchecked Sendable {
    // Only ever touched by the one renderer that made it, on one thread.
    public var attributes: TemplateDict

    public init(_ attributes: TemplateDict) { self.attributes = attributes }
}

/// A function a template can call: a macro, a built-in global (`range`, `raise_exception`), or a
/// method bound to its receiver (`message.content.strip`).
public struct TemplateCallable: Sendable {
    public var name: String
    let kind: Kind

    indirect enum Kind: Sendable {
        case macro(TemplateMacro)
        case global(String)
        case method(receiver: TemplateValue, name: String)
        case caller(TemplateMacro)
    }
}

extension TemplateValue {
    /// The items of a list or tuple, else nil.
    var sequenceItems: [TemplateValue]? {
        switch self {
        case .list(let items), .tuple(let items): items
        default: nil
        }
    }
}
