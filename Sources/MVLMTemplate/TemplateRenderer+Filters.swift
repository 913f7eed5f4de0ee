import Foundation
import MVLMCore

extension TemplateRenderer {
    /// The filters a template may use (jinja2's built-ins that chat templates need, with
    /// transformers' `tojson`).
    static let filterNames: Set<String> = [
        "abs", "attribute", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
        "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
        "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim",
        "unique", "upper", "wordcount",
    ]

    /// Arguments of a filter, by position then by name.
    struct FilterArguments {
        var positional: [TemplateValue]
        var keyword: [(String, TemplateValue)]

        func value(_ position: Int, _ name: String) -> TemplateValue? {
            if position < positional.count { return positional[position] }
            return keyword.first { $0.0 == name }?.1
        }
    }

    mutating func applyFilter(_ filterName: String, to value: TemplateValue, _ arguments: TemplateArguments) throws -> TemplateValue {
        let (positional, keyword) = try evaluate(arguments)
        return try filter(filterName, value, FilterArguments(positional: positional, keyword: keyword))
    }

    mutating func filter(_ filterName: String, _ value: TemplateValue, _ arguments: FilterArguments) throws -> TemplateValue {
        func string(_ position: Int, _ name: String, _ fallback: String) throws -> String {
            guard let argument = arguments.value(position, name) else { return fallback }
            guard case .string(let text) = argument else { throw error("filter '\(filterName)': '\(name)' must be a string") }
            return text
        }
        func flag(_ position: Int, _ name: String) -> Bool { arguments.value(position, name)?.isTruthy ?? false }
        func requireDefined() throws {
            if case .undefined(let missing) = value { throw error("'\(missing)' is undefined (filtered with '\(filterName)')") }
        }
        switch filterName {
        case "default", "d":
            let fallback = arguments.value(0, "default_value") ?? .string("")
            let boolean = flag(1, "boolean")
            if value.isUndefined || (boolean && !value.isTruthy) { return fallback }
            return value
        case "length", "count":
            switch value {
            case .string(let text): return .int(text.unicodeScalars.count)
            case .list(let items), .tuple(let items): return .int(items.count)
            case .dict(let dict): return .int(dict.count)
            case .undefined: return .int(0)
            case .namespace(let namespace): return .int(namespace.attributes.count)
            default: throw error("object of type '\(value.typeName)' has no len()")
            }
        case "string":
            return .string(value.pythonString)
        case "safe":
            return value
        case "e", "escape":
            let text = value.pythonString
            var out = ""
            for character in text {
                switch character {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&#34;"
                case "'": out += "&#39;"
                default: out.append(character)
                }
            }
            return .string(out)
        case "trim":
            let characters = arguments.value(0, "chars")
            return .string(try Self.strip(value.pythonString, characters.flatMap { $0.isNone ? nil : $0.pythonString }, leading: true, trailing: true))
        case "upper":
            return .string(Self.upper(value.pythonString))
        case "lower":
            return .string(Self.lower(value.pythonString))
        case "capitalize":
            return .string(Self.capitalize(value.pythonString))
        case "title":
            return .string(Self.titleFilter(value.pythonString))
        case "replace":
            let old = try string(0, "old", ""), new = try string(1, "new", "")
            var count: Int?
            if let limit = arguments.value(2, "count") { count = limit.integerValue }
            return .string(try checkSize(Self.replace(value.pythonString, old, new, count: count)))
        case "join":
            let separator = try string(0, "d", "")
            var items = try iterate(value)
            if let attribute = arguments.value(1, "attribute") { items = try items.map { try path($0, attribute) } }
            return .string(try checkSize(items.map(\.pythonString).joined(separator: separator)))
        case "first":
            return try iterate(value).first ?? .undefined("first item of an empty sequence")
        case "last":
            return try iterate(value).last ?? .undefined("last item of an empty sequence")
        case "list":
            return .list(try iterate(value))
        case "reverse":
            if case .string(let text) = value { return .string(String(text.unicodeScalars.reversed().map(Character.init))) }
            return .list(try iterate(value).reversed())
        case "items":
            switch value {
            case .dict(let dict): return .list(dict.entries.map { .tuple([$0.key.value, $0.value]) })
            case .undefined: return .list([])
            default: throw error("filter 'items': can only get item pairs from a mapping, not \(value.typeName)")
            }
        case "dictsort":
            guard case .dict(let dict) = value else { throw error("filter 'dictsort': not a mapping (\(value.typeName))") }
            let caseSensitive = flag(0, "case_sensitive")
            let byValue = (try string(1, "by", "key")) == "value"
            let reverse = flag(2, "reverse")
            func key(_ entry: (key: TemplateDict.Key, value: TemplateValue)) -> TemplateValue {
                let item = byValue ? entry.value : entry.key.value
                if !caseSensitive, case .string(let text) = item { return .string(Self.lower(text)) }
                return item
            }
            var sorted = dict.entries
            try stableSort(&sorted) { a, b in
                guard let order = Self.order(key(a), key(b)) else { throw self.error("filter 'dictsort': values cannot be ordered") }
                return reverse ? order > 0 : order < 0
            }
            return .list(sorted.map { .tuple([$0.key.value, $0.value]) })
        case "sort":
            var items = try iterate(value)
            let reverse = flag(0, "reverse"), caseSensitive = flag(1, "case_sensitive")
            let attribute = arguments.value(2, "attribute")
            func key(_ item: TemplateValue) throws -> TemplateValue {
                let keyed = try attribute.map { try path(item, $0) } ?? item
                if !caseSensitive, case .string(let text) = keyed { return .string(Self.lower(text)) }
                return keyed
            }
            let keys = try items.map(key)
            var order = Array(items.indices)
            try stableSort(&order) { a, b in
                guard let result = Self.order(keys[a], keys[b]) else { throw self.error("filter 'sort': values cannot be ordered") }
                return reverse ? result > 0 : result < 0
            }
            items = order.map { items[$0] }
            return .list(items)
        case "unique":
            let caseSensitive = flag(0, "case_sensitive")
            let attribute = arguments.value(1, "attribute")
            var seen: [TemplateValue] = [], kept: [TemplateValue] = []
            for item in try iterate(value) {
                try step()
                var key = try attribute.map { try path(item, $0) } ?? item
                if !caseSensitive, case .string(let text) = key { key = .string(Self.lower(text)) }
                if !seen.contains(where: { Self.equal($0, key) }) {
                    seen.append(key)
                    kept.append(item)
                }
            }
            return .list(kept)
        case "min", "max":
            let items = try iterate(value)
            guard var best = items.first else { return .undefined("\(filterName) of an empty sequence") }
            for item in items.dropFirst() {
                guard let order = Self.order(item, best) else { throw error("filter '\(filterName)': values cannot be ordered") }
                if filterName == "min" ? order < 0 : order > 0 { best = item }
            }
            return best
        case "sum":
            var total = arguments.value(1, "start") ?? .int(0)
            for item in try iterate(value) {
                let term = try arguments.value(0, "attribute").map { try path(item, $0) } ?? item
                total = try binary("+", total, term)
            }
            return total
        case "map":
            guard value.isTruthy else { return .list([]) }  // jinja2: `if value:` before iterating
            let items = try iterate(value)
            if let attribute = arguments.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = arguments.keyword.first { $0.0 == "default" }?.1
                return .list(try items.map { item in
                    let found = try path(item, attribute)
                    if found.isUndefined, let fallback { return fallback }
                    return found
                })
            }
            guard case .string(let inner)? = arguments.positional.first else {
                throw error("filter 'map' needs a filter name or attribute=")
            }
            try checkFilter(inner)
            let rest = FilterArguments(positional: Array(arguments.positional.dropFirst()), keyword: arguments.keyword)
            return .list(try items.map { try filter(inner, $0, rest) })
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = filterName.hasSuffix("attr")
            let keep = filterName.hasPrefix("select")
            var positional = arguments.positional
            var attribute: TemplateValue?
            if byAttribute {
                guard !positional.isEmpty else { throw error("filter '\(filterName)' needs an attribute name") }
                attribute = positional.removeFirst()
            }
            var testName: String?
            if !positional.isEmpty {
                guard case .string(let name) = positional.removeFirst() else { throw error("filter '\(filterName)': the test name must be a string") }
                testName = name
                try checkTest(name)
            }
            var kept: [TemplateValue] = []
            for item in value.isTruthy ? try iterate(value) : [] {  // jinja2: `if value:` before iterating
                try step()
                let subject = try attribute.map { try path(item, $0) } ?? item
                let passed = try testName.map { try applyTest($0, subject, positional) } ?? subject.isTruthy
                if passed == keep { kept.append(item) }
            }
            return .list(kept)
        case "attribute":
            guard let attribute = arguments.value(0, "name") else { throw error("filter 'attribute' needs a name") }
            return try path(value, attribute)
        case "tojson":
            try requireDefined()
            var indent: String?
            if let given = arguments.value(1, "indent"), !given.isNone {
                if let spaces = given.integerValue { indent = String(repeating: " ", count: max(0, spaces)) }
                else if case .string(let text) = given { indent = text }
            }
            var separators: (String, String)?
            if let given = arguments.value(2, "separators"), let pair = given.sequenceItems, pair.count == 2 {
                separators = (pair[0].pythonString, pair[1].pythonString)
            }
            let ensureASCII = arguments.value(0, "ensure_ascii")?.isTruthy ?? false
            let sortKeys = arguments.value(3, "sort_keys")?.isTruthy ?? false
            var encoder = TemplateJSONEncoder(indent: indent, separators: separators, sortKeys: sortKeys, ensureASCII: ensureASCII, limit: limits.maximumOutputBytes)
            do {
                return .string(try encoder.encode(value))
            } catch let failure as TemplateJSONEncoder.Failure {
                throw error("filter 'tojson': \(failure.message)")
            }
        case "int":
            let fallback = arguments.value(0, "default") ?? .int(0)
            switch value {
            case .int, .bool: return .int(value.integerValue!)
            case .double(let number): return number.isFinite ? .int(Int(number)) : fallback
            case .string(let text):
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                if let number = Int(trimmed.replacingOccurrences(of: "_", with: "")) { return .int(number) }
                if let number = Double(trimmed), number.isFinite { return .int(Int(number)) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = arguments.value(0, "default") ?? .double(0)
            switch value {
            case .int, .bool, .double: return .double(value.numberValue!)
            case .string(let text): return Double(text.trimmingCharacters(in: .whitespaces)).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "abs":
            switch value {
            case .int(let number): return .int(number == .min ? number : abs(number))
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .double(let number): return .double(abs(number))
            default: throw error("bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            guard let number = value.numberValue else { throw error("filter 'round': not a number (\(value.typeName))") }
            let precision = arguments.value(0, "precision")?.integerValue ?? 0
            let method = try string(1, "method", "common")
            let scale = pow(10.0, Double(precision))
            let scaled = number * scale
            let rounded: Double
            switch method {
            case "ceil": rounded = scaled.rounded(.up)
            case "floor": rounded = scaled.rounded(.down)
            default: rounded = scaled.rounded(.toNearestOrEven)
            }
            return .double(rounded / scale)
        case "indent":
            let width: String
            if let given = arguments.value(0, "width") {
                if case .string(let text) = given { width = text } else { width = String(repeating: " ", count: max(0, given.integerValue ?? 4)) }
            } else {
                width = "    "
            }
            let first = flag(1, "first"), blank = flag(2, "blank")
            // jinja2: (s + "\n").splitlines(), then every line but the first indented (blank lines
            // only with blank=True), the first too with first=True.
            var lines = (value.pythonString + "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines.removeLast()
            var text: String
            if blank {
                text = lines.joined(separator: "\n" + width)
            } else {
                text = lines[0]
                if lines.count > 1 { text += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : width + $0 }.joined(separator: "\n") }
            }
            if first { text = width + text }
            return .string(try checkSize(text))
        case "center":
            let width = arguments.value(0, "width")?.integerValue ?? 80
            let text = value.pythonString
            let count = text.unicodeScalars.count
            guard width > count else { return .string(text) }
            let total = min(width, limits.maximumOutputBytes) - count
            let left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + text + String(repeating: " ", count: total - left))
        case "wordcount":
            return .int(value.pythonString.split(whereSeparator: { $0.isWhitespace }).count)
        default:
            throw error("no filter named '\(filterName)'")
        }
    }

    func checkFilter(_ filterName: String) throws {
        guard Self.filterNames.contains(filterName) else { throw error("no filter named '\(filterName)'") }
    }

    func checkTest(_ testName: String) throws {
        guard Self.testNames.contains(testName) else { throw error("no test named '\(testName)'") }
    }

    /// The value at a dotted attribute path (`"function.name"`) or an integer index, as
    /// `map(attribute=…)` and `selectattr` read it.
    func path(_ item: TemplateValue, _ attribute: TemplateValue) throws -> TemplateValue {
        if let position = attribute.integerValue { return try self.item(of: item, .int(position)) }
        var current = item
        for part in attribute.pythonString.split(separator: ".", omittingEmptySubsequences: false) {
            if current.isUndefined { return current }
            if let position = Int(part) { current = try self.item(of: current, .int(position)) } else { current = try self.item(of: current, .string(String(part))) }
        }
        return current
    }

    /// A merge sort (stable, as Python's sort is) with a throwing comparison.
    func stableSort<T>(_ items: inout [T], by less: (T, T) throws -> Bool) throws {
        guard items.count > 1 else { return }
        let middle = items.count / 2
        var left = Array(items[..<middle]), right = Array(items[middle...])
        try stableSort(&left, by: less)
        try stableSort(&right, by: less)
        var merged: [T] = []
        merged.reserveCapacity(items.count)
        var i = 0, j = 0
        while i < left.count && j < right.count {
            if try less(right[j], left[i]) {
                merged.append(right[j])
                j += 1
            } else {
                merged.append(left[i])
                i += 1
            }
        }
        merged += left[i...]
        merged += right[j...]
        items = merged
    }
}
