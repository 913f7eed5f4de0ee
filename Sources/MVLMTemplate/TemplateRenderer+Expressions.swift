import MVLMCore

extension TemplateRenderer {
    mutating func evaluate(_ expression: TemplateExpression) throws -> TemplateValue {
        switch expression {
        case .literal(let value):
            return value
        case .name(let variable):
            return lookup(variable)
        case .list(let items):
            return .list(try items.map { try evaluate($0) })
        case .tuple(let items):
            return .tuple(try items.map { try evaluate($0) })
        case .dict(let pairs):
            var dict = TemplateDict()
            for (keyExpression, valueExpression) in pairs {
                let key = try evaluate(keyExpression)
                guard let hashable = TemplateDict.Key(key) else { throw error("unhashable type: '\(key.typeName)' as a dict key") }
                dict[hashable] = try evaluate(valueExpression)
            }
            return .dict(dict)
        case .attribute(let base, let attribute):
            return try attributeValue(try evaluate(base), attribute)
        case .item(let base, let key):
            return try item(of: try evaluate(base), try evaluate(key))
        case .slice(let base, let start, let stop, let stride):
            return try slice(
                try evaluate(base), start.map { try evaluate($0) }, stop.map { try evaluate($0) }, stride.map { try evaluate($0) })
        case .call(let callee, let arguments):
            let function = try evaluate(callee)
            let (positional, keyword) = try evaluate(arguments)
            return try call(function, positional: positional, keyword: keyword)
        case .filter(let base, let filterName, let arguments):
            let value = try evaluate(base)
            return try applyFilter(filterName, to: value, arguments)
        case .test(let base, let testName, let arguments, let negated):
            let value = try evaluate(base)
            let (positional, _) = try evaluate(arguments)
            let result = try applyTest(testName, value, positional)
            return .bool(negated ? !result : result)
        case .negate(let inner):
            switch try evaluate(inner) {
            case .int(let value): return .int(0 &- value)
            case .bool(let value): return .int(value ? -1 : 0)
            case .double(let value): return .double(-value)
            case let other: throw error("bad operand type for unary -: '\(other.typeName)'")
            }
        case .plus(let inner):
            let value = try evaluate(inner)
            guard value.numberValue != nil else { throw error("bad operand type for unary +: '\(value.typeName)'") }
            return value
        case .not(let inner):
            return .bool(!(try evaluate(inner).isTruthy))
        case .and(let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? try evaluate(right) : value
        case .or(let left, let right):
            let value = try evaluate(left)
            return value.isTruthy ? value : try evaluate(right)
        case .binary(let symbol, let left, let right):
            return try binary(symbol, try evaluate(left), try evaluate(right))
        case .compare(let first, let operations):
            var left = try evaluate(first)
            for (symbol, rightExpression) in operations {
                let right = try evaluate(rightExpression)
                guard try compare(symbol, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            return try otherwise.map { try evaluate($0) } ?? .undefined("conditional expression")
        }
    }

    // MARK: attributes and items

    /// jinja2's `getattr`: a method of the value if it has one by that name, else its item.
    func attributeValue(_ base: TemplateValue, _ attribute: String) throws -> TemplateValue {
        switch base {
        case .undefined(let missing):
            throw error("'\(missing)' is undefined (reading its attribute '\(attribute)')")
        case .dict(let dict):
            if Self.dictMethods.contains(attribute) { return bound(base, attribute) }
            return dict[attribute] ?? .undefined(attribute)
        case .string:
            return Self.stringMethods.contains(attribute) ? bound(base, attribute) : .undefined(attribute)
        case .list, .tuple:
            return Self.listMethods.contains(attribute) ? bound(base, attribute) : .undefined(attribute)
        case .namespace(let namespace):
            return namespace.attributes[attribute] ?? .undefined(attribute)
        default:
            return .undefined(attribute)
        }
    }

    func bound(_ receiver: TemplateValue, _ method: String) -> TemplateValue {
        .callable(TemplateCallable(name: method, kind: .method(receiver: receiver, name: method)))
    }

    /// jinja2's `getitem`: the item, else (for a string key) the attribute, else undefined.
    func item(of base: TemplateValue, _ key: TemplateValue) throws -> TemplateValue {
        switch (base, key) {
        case (.undefined(let missing), _):
            throw error("'\(missing)' is undefined (reading an item of it)")
        case (.dict(let dict), _):
            if let hashable = TemplateDict.Key(key), let value = dict[hashable] { return value }
            if case .string(let text) = key { return try attributeValue(base, text) }
            return .undefined("item")
        case (.list(let items), _), (.tuple(let items), _):
            guard let position = key.integerValue else {
                if case .string(let text) = key { return try attributeValue(base, text) }
                return .undefined("item")
            }
            let resolved = position < 0 ? items.count + position : position
            return items.indices.contains(resolved) ? items[resolved] : .undefined("item \(position)")
        case (.string(let text), _):
            guard let position = key.integerValue else {
                if case .string(let attribute) = key { return try attributeValue(base, attribute) }
                return .undefined("item")
            }
            let scalars = Array(text.unicodeScalars)
            let resolved = position < 0 ? scalars.count + position : position
            return scalars.indices.contains(resolved) ? .string(String(scalars[resolved])) : .undefined("item \(position)")
        case (_, .string(let text)):
            return try attributeValue(base, text)
        default:
            return .undefined("item")
        }
    }

    /// Python's slice `[start:stop:stride]` of a list or string.
    func slice(_ base: TemplateValue, _ start: TemplateValue?, _ stop: TemplateValue?, _ stride: TemplateValue?) throws -> TemplateValue {
        func bound(_ value: TemplateValue?) throws -> Int? {
            guard let value, !value.isNone, !value.isUndefined else { return nil }
            guard let number = value.integerValue else { throw error("slice indices must be integers or None") }
            return number
        }
        let step = try bound(stride) ?? 1
        guard step != 0 else { throw error("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            func clamp(_ value: Int?, _ fallback: Int) -> Int {
                guard var value else { return fallback }
                if value < 0 { value += count }
                return step > 0 ? min(max(value, 0), count) : min(max(value, -1), count - 1)
            }
            let from = clamp(try bound(start), step > 0 ? 0 : count - 1)
            let to = clamp(try bound(stop), step > 0 ? count : -1)
            var result: [Int] = []
            var position = from
            while step > 0 ? position < to : position > to {
                result.append(position)
                position += step
            }
            return result
        }
        switch base {
        case .list(let items):
            return .list(try indices(items.count).map { items[$0] })
        case .tuple(let items):
            return .tuple(try indices(items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            var out = ""
            for position in try indices(scalars.count) { out.unicodeScalars.append(scalars[position]) }
            return .string(out)
        case .undefined(let missing):
            throw error("'\(missing)' is undefined (slicing it)")
        default:
            throw error("'\(base.typeName)' object is not subscriptable")
        }
    }

    // MARK: operators

    func binary(_ symbol: String, _ left: TemplateValue, _ right: TemplateValue) throws -> TemplateValue {
        func fail() -> MVLMError {
            error("unsupported operand types for \(symbol): '\(left.typeName)' and '\(right.typeName)'")
        }
        if symbol == "~" { return .string(try checkSize(left.pythonString + right.pythonString)) }
        if case .undefined(let missing) = left { throw error("'\(missing)' is undefined (used with \(symbol))") }
        if case .undefined(let missing) = right { throw error("'\(missing)' is undefined (used with \(symbol))") }
        switch symbol {
        case "+":
            switch (left, right) {
            case (.string(let a), .string(let b)): return .string(try checkSize(a + b))
            case (.tuple(let a), .tuple(let b)):
                return .tuple(a + b)
            case (.list(let a), .list(let b)):
                guard a.count + b.count <= limits.maximumListLength else { throw error("a list longer than \(limits.maximumListLength) items", code: .outOfBounds) }
                return .list(a + b)
            default: return try arithmetic(symbol, left, right) ?? { throw fail() }()
            }
        case "*":
            switch (left, right) {
            case (.string(let text), _) where right.integerValue != nil, (_, .string(let text)) where left.integerValue != nil:
                let times = max(0, right.integerValue ?? left.integerValue!)
                guard text.utf8.count.multipliedReportingOverflow(by: times).partialValue <= limits.maximumOutputBytes, times < limits.maximumOutputBytes else {
                    throw error("repeating a string \(times) times exceeds the size limit", code: .outOfBounds)
                }
                return .string(String(repeating: text, count: times))
            case (.list(let items), _) where right.integerValue != nil, (_, .list(let items)) where left.integerValue != nil:
                let times = max(0, right.integerValue ?? left.integerValue!)
                guard items.count.multipliedReportingOverflow(by: times).partialValue <= limits.maximumListLength, times <= limits.maximumListLength else {
                    throw error("repeating a list \(times) times exceeds the size limit", code: .outOfBounds)
                }
                return .list(Array([[TemplateValue]](repeating: items, count: times).joined()))
            default: return try arithmetic(symbol, left, right) ?? { throw fail() }()
            }
        case "%":
            if case .string(let format) = left { return .string(try checkSize(try percentFormat(format, right))) }
            return try arithmetic(symbol, left, right) ?? { throw fail() }()
        default:
            return try arithmetic(symbol, left, right) ?? { throw fail() }()
        }
    }

    /// Numeric operators with Python's rules (int stays int except `/`; `//` and `%` floor).
    func arithmetic(_ symbol: String, _ left: TemplateValue, _ right: TemplateValue) throws -> TemplateValue? {
        if let a = left.integerValue, let b = right.integerValue {
            switch symbol {
            case "+": return .int(a &+ b)
            case "-": return .int(a &- b)
            case "*": return .int(a &* b)
            case "/":
                guard b != 0 else { throw error("division by zero") }
                return .double(Double(a) / Double(b))
            case "//":
                guard b != 0 else { throw error("integer division by zero") }
                let quotient = a / b
                return .int((a % b != 0) && ((a < 0) != (b < 0)) ? quotient - 1 : quotient)
            case "%":
                guard b != 0 else { throw error("modulo by zero") }
                let remainder = a % b
                return .int(remainder != 0 && ((remainder < 0) != (b < 0)) ? remainder + b : remainder)
            case "**":
                if b < 0 { return .double(pow(Double(a), Double(b))) }
                guard b <= 64 else { return .double(pow(Double(a), Double(b))) }
                var result = 1
                for _ in 0..<b { result = result &* a }
                return .int(result)
            default: return nil
            }
        }
        guard let a = left.numberValue, let b = right.numberValue else { return nil }
        switch symbol {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw error("float division by zero") }
            return .double(a / b)
        case "//":
            guard b != 0 else { throw error("float floor division by zero") }
            return .double((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw error("float modulo by zero") }
            let remainder = a.truncatingRemainder(dividingBy: b)
            return .double(remainder != 0 && ((remainder < 0) != (b < 0)) ? remainder + b : remainder)
        case "**": return .double(pow(a, b))
        default: return nil
        }
    }

    /// `"%s and %d" % values` for the `%s %d %i %r %%` conversions.
    func percentFormat(_ format: String, _ values: TemplateValue) throws -> String {
        var arguments: [TemplateValue]
        if case .tuple(let items) = values { arguments = items } else { arguments = [values] }
        var out = ""
        var iterator = format.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                out.append(character)
                continue
            }
            guard let conversion = iterator.next() else { throw error("incomplete format") }
            if conversion == "%" {
                out += "%"
                continue
            }
            guard !arguments.isEmpty else { throw error("not enough arguments for format string") }
            let argument = arguments.removeFirst()
            switch conversion {
            case "s": out += argument.pythonString
            case "r": out += argument.pythonRepr
            case "d", "i":
                guard let number = argument.numberValue else { throw error("%d format: a number is required, not \(argument.typeName)") }
                out += String(Int(number))
            default: throw error("unsupported format character '\(conversion)'")
            }
        }
        return out
    }

    func compare(_ symbol: String, _ left: TemplateValue, _ right: TemplateValue) throws -> Bool {
        switch symbol {
        case "==": return Self.equal(left, right)
        case "!=": return !Self.equal(left, right)
        case "in": return try contains(right, left)
        case "notin": return !(try contains(right, left))
        default:
            guard let order = Self.order(left, right) else {
                throw error("'\(symbol)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'")
            }
            switch symbol {
            case "<": return order < 0
            case ">": return order > 0
            case "<=": return order <= 0
            default: return order >= 0
            }
        }
    }

    func contains(_ container: TemplateValue, _ element: TemplateValue) throws -> Bool {
        switch container {
        case .string(let text):
            guard case .string(let part) = element else {
                throw error("'in <string>' requires string as left operand, not \(element.typeName)")
            }
            return part.isEmpty || text.unicodeScalars.firstRange(of: part.unicodeScalars) != nil
        case .list(let items), .tuple(let items): return items.contains { Self.equal($0, element) }
        case .dict(let dict):
            guard let key = TemplateDict.Key(element) else { return false }
            return dict[key] != nil
        case .undefined: return false  // Undefined iterates as empty
        case .namespace(let namespace):
            guard case .string(let key) = element else { return false }
            return namespace.attributes[key] != nil
        default: throw error("argument of type '\(container.typeName)' is not iterable")
        }
    }

    /// Python's `==`.
    static func equal(_ left: TemplateValue, _ right: TemplateValue) -> Bool {
        switch (left, right) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.dict(let a), .dict(let b)):
            return a.count == b.count && a.entries.allSatisfy { entry in b[entry.key].map { equal(entry.value, $0) } ?? false }
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if let a = left.integerValue, let b = right.integerValue { return a == b }
            if let a = left.numberValue, let b = right.numberValue { return a == b }
            return false
        }
    }

    /// Python's ordering: -1, 0, 1, or nil when the types cannot be ordered.
    static func order(_ left: TemplateValue, _ right: TemplateValue) -> Int? {
        switch (left, right) {
        case (.string(let a), .string(let b)):
            var first = a.unicodeScalars.makeIterator(), second = b.unicodeScalars.makeIterator()
            while true {
                switch (first.next(), second.next()) {
                case (nil, nil): return 0
                case (nil, _): return -1
                case (_, nil): return 1
                case (let x?, let y?): if x != y { return x.value < y.value ? -1 : 1 }
                }
            }
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where !equal(x, y) { return order(x, y) }
            return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
        default:
            if let a = left.integerValue, let b = right.integerValue { return a == b ? 0 : a < b ? -1 : 1 }
            if let a = left.numberValue, let b = right.numberValue { return a == b ? 0 : a < b ? -1 : 1 }
            return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
