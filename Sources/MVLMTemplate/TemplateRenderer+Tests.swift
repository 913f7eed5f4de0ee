extension TemplateRenderer {
    /// The tests a template may use (jinja2's built-ins).
    static let testNames: Set<String> = [
        "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string", "mapping",
        "iterable", "sequence", "callable", "sameas", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=",
        "gt", "greaterthan", ">", "ge", ">=", "in", "odd", "even", "divisibleby", "lower", "upper", "escaped", "filter", "test",
    ]

    /// `value is testName(arguments)`, as jinja2's tests answer it for Python values.
    func applyTest(_ testName: String, _ value: TemplateValue, _ arguments: [TemplateValue]) throws -> Bool {
        func argument() throws -> TemplateValue {
            guard let first = arguments.first else { throw error("test '\(testName)' needs an argument") }
            return first
        }
        switch testName {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": return value.isNone
        case "boolean": if case .bool = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return value.numberValue != nil
        case "string": if case .string = value { return true } else { return false }
        case "mapping": if case .dict = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .string, .list, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "callable": if case .callable = value { return true } else { return false }
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        case "eq", "equalto", "==": return Self.equal(value, try argument())
        case "ne", "!=": return !Self.equal(value, try argument())
        case "lt", "lessthan", "<": return try compare("<", value, try argument())
        case "le", "<=": return try compare("<=", value, try argument())
        case "gt", "greaterthan", ">": return try compare(">", value, try argument())
        case "ge", ">=": return try compare(">=", value, try argument())
        case "in": return try contains(try argument(), value)
        case "odd", "even":
            guard let number = value.integerValue else { throw error("test '\(testName)' needs an integer, got \(value.typeName)") }
            return (number % 2 != 0) == (testName == "odd")
        case "divisibleby":
            guard let number = value.integerValue, let divisor = try argument().integerValue, divisor != 0 else {
                throw error("test 'divisibleby' needs a non-zero integer")
            }
            return number % divisor == 0
        case "lower":
            guard case .string(let text) = value else { return false }
            return Self.lower(text) == text
        case "upper":
            guard case .string(let text) = value else { return false }
            return Self.upper(text) == text
        case "escaped": return false
        case "filter":
            guard case .string(let name) = try argument() else { return false }
            return Self.filterNames.contains(name)
        case "test":
            guard case .string(let name) = try argument() else { return false }
            return Self.testNames.contains(name)
        default:
            throw error("no test named '\(testName)'")
        }
    }
}
