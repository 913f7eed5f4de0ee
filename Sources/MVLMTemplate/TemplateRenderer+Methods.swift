import Foundation

extension TemplateRenderer {
    /// Methods of `str` a template may call (the non-mutating ones Python has).
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower", "title",
        "capitalize", "replace", "format", "find", "rfind", "index", "rindex", "count", "join", "isdigit", "isalpha",
        "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "zfill", "partition", "rpartition", "swapcase",
    ]
    /// Methods of `dict` (reading only: ImmutableSandboxedEnvironment refuses the mutating ones).
    static let dictMethods: Set<String> = ["get", "items", "keys", "values"]
    /// Methods of `list` (reading only).
    static let listMethods: Set<String> = ["index", "count"]

    func callMethod(_ method: String, on receiver: TemplateValue, positional: [TemplateValue], keyword: [(String, TemplateValue)]) throws -> TemplateValue {
        func argument(_ position: Int, _ name: String) -> TemplateValue? {
            if position < positional.count { return positional[position] }
            return keyword.first { $0.0 == name }?.1
        }
        func text(_ position: Int, _ name: String) throws -> String? {
            guard let value = argument(position, name), !value.isNone else { return nil }
            guard case .string(let string) = value else { throw error("\(method)() argument '\(name)' must be a string, not \(value.typeName)") }
            return string
        }
        switch receiver {
        case .int(let position) where method == "__cycle__":
            guard !positional.isEmpty else { throw error("loop.cycle() needs at least one value") }
            return positional[position % positional.count]
        case .dict(let dict):
            switch method {
            case "get":
                guard let given = argument(0, "key"), let key = TemplateDict.Key(given) else { return argument(1, "default") ?? .none }
                return dict[key] ?? argument(1, "default") ?? .none
            case "items": return .list(dict.entries.map { .tuple([$0.key.value, $0.value]) })
            case "keys": return .list(dict.keys.map(\.value))
            case "values": return .list(dict.entries.map(\.value))
            default: break
            }
        case .list(let items), .tuple(let items):
            guard let target = argument(0, "value") else { throw error("list.\(method)() needs an argument") }
            switch method {
            case "count": return .int(items.filter { Self.equal($0, target) }.count)
            case "index":
                guard let position = items.firstIndex(where: { Self.equal($0, target) }) else { throw error("list.index(x): x not in list") }
                return .int(position)
            default: break
            }
        case .string(let string):
            return try callStringMethod(method, string, positional: positional, keyword: keyword, text: text, argument: argument)
        default: break
        }
        throw error("'\(receiver.typeName)' object has no method '\(method)'")
    }

    func callStringMethod(
        _ method: String, _ string: String, positional: [TemplateValue], keyword: [(String, TemplateValue)],
        text: (Int, String) throws -> String?, argument: (Int, String) -> TemplateValue?
    ) throws -> TemplateValue {
        switch method {
        case "strip": return .string(try Self.strip(string, try text(0, "chars"), leading: true, trailing: true))
        case "lstrip": return .string(try Self.strip(string, try text(0, "chars"), leading: true, trailing: false))
        case "rstrip": return .string(try Self.strip(string, try text(0, "chars"), leading: false, trailing: true))
        case "upper": return .string(Self.upper(string))
        case "lower": return .string(Self.lower(string))
        case "title": return .string(Self.title(string))
        case "capitalize": return .string(Self.capitalize(string))
        case "swapcase": return .string(String(string.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) }))
        case "split", "rsplit":
            let separator = try text(0, "sep")
            if separator == "" { throw error("\(method)(): empty separator") }
            let limit = argument(1, "maxsplit")?.integerValue ?? -1
            let parts = try Self.split(string, separator, limit: limit, fromRight: method == "rsplit")
            guard parts.count <= limits.maximumListLength else { throw error("split() made more than \(limits.maximumListLength) parts", code: .outOfBounds) }
            return .list(parts.map { .string($0) })
        case "splitlines":
            var lines = string.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            return .list(lines.map { .string($0) })
        case "startswith", "endswith":
            guard let given = argument(0, "prefix") else { throw error("\(method)() needs an argument") }
            let candidates: [TemplateValue]
            if case .tuple(let items) = given { candidates = items } else { candidates = [given] }
            for candidate in candidates {
                guard case .string(let affix) = candidate else { throw error("\(method)() takes a string or a tuple of strings, not \(candidate.typeName)") }
                let scalars = Array(string.unicodeScalars), affixScalars = Array(affix.unicodeScalars)
                if method == "startswith" ? scalars.starts(with: affixScalars) : scalars.reversed().starts(with: affixScalars.reversed()) { return .bool(true) }
            }
            return .bool(false)
        case "replace":
            guard let old = try text(0, "old"), let new = try text(1, "new") else { throw error("replace() needs two strings") }
            return .string(try checkSize(Self.replace(string, old, new, count: argument(2, "count")?.integerValue)))
        case "find", "rfind", "index", "rindex", "count":
            guard let needle = try text(0, "sub") else { throw error("\(method)() needs a string") }
            let haystack = Array(string.unicodeScalars), target = Array(needle.unicodeScalars)
            var positions: [Int] = []
            if haystack.count >= target.count {
                var position = 0
                while position <= haystack.count - target.count {
                    if Array(haystack[position..<(position + target.count)]) == target {
                        positions.append(position)
                        position += max(target.count, 1)
                    } else {
                        position += 1
                    }
                }
            }
            if method == "count" { return .int(positions.count) }
            let found = method.hasPrefix("r") ? positions.last : positions.first
            if let found { return .int(found) }
            if method.hasSuffix("index") { throw error("substring not found") }
            return .int(-1)
        case "join":
            guard let items = argument(0, "iterable") else { throw error("join() needs an argument") }
            return .string(try checkSize(try iterate(items).map { item in
                guard case .string(let part) = item else { throw error("join(): sequence item is \(item.typeName), not str") }
                return part
            }.joined(separator: string)))
        case "isdigit", "isnumeric", "isdecimal":
            return .bool(!string.isEmpty && string.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha": return .bool(!string.isEmpty && string.unicodeScalars.allSatisfy(\.properties.isAlphabetic))
        case "isalnum": return .bool(!string.isEmpty && string.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(!string.isEmpty && string.unicodeScalars.allSatisfy(\.properties.isWhitespace))
        case "isupper": return .bool(string.contains { $0.isCased } && Self.upper(string) == string)
        case "islower": return .bool(string.contains { $0.isCased } && Self.lower(string) == string)
        case "zfill":
            let width = argument(0, "width")?.integerValue ?? 0
            let count = string.unicodeScalars.count
            guard width > count else { return .string(string) }
            let padding = String(repeating: "0", count: min(width, limits.maximumOutputBytes) - count)
            if let first = string.first, first == "-" || first == "+" { return .string(String(first) + padding + string.dropFirst()) }
            return .string(padding + string)
        case "partition", "rpartition":
            guard let separator = try text(0, "sep"), !separator.isEmpty else { throw error("\(method)() needs a non-empty separator") }
            let range = method == "partition" ? string.range(of: separator) : string.range(of: separator, options: .backwards)
            guard let range else {
                return .list(method == "partition" ? [.string(string), .string(""), .string("")] : [.string(""), .string(""), .string(string)])
            }
            return .list([.string(String(string[..<range.lowerBound])), .string(separator), .string(String(string[range.upperBound...]))])
        case "format":
            return .string(try checkSize(try format(string, positional: positional, keyword: keyword)))
        default:
            throw error("'str' object has no method '\(method)'")
        }
    }

    /// `str.format` for `{}`, `{0}`, `{name}`, `{name.attr}` fields and `{{`/`}}` (format specs are
    /// applied only when empty).
    func format(_ template: String, positional: [TemplateValue], keyword: [(String, TemplateValue)]) throws -> String {
        var out = ""
        var automatic = 0
        let scalars = Array(template.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "{" {
                if index + 1 < scalars.count, scalars[index + 1] == "{" {
                    out += "{"
                    index += 2
                    continue
                }
                guard let close = scalars[index...].firstIndex(of: "}") else { throw error("format(): single '{' encountered") }
                var field = ""
                field.unicodeScalars.append(contentsOf: scalars[(index + 1)..<close])
                var spec = ""
                if let colon = field.firstIndex(of: ":") {
                    spec = String(field[field.index(after: colon)...])
                    field = String(field[..<colon])
                }
                guard spec.isEmpty else { throw error("format(): format specifications ('\(spec)') are not supported") }
                let parts = field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                var value: TemplateValue
                if parts[0].isEmpty {
                    guard automatic < positional.count else { throw error("format(): not enough positional arguments") }
                    value = positional[automatic]
                    automatic += 1
                } else if let position = Int(parts[0]) {
                    guard position < positional.count else { throw error("format(): no positional argument \(position)") }
                    value = positional[position]
                } else {
                    guard let found = keyword.first(where: { $0.0 == parts[0] })?.1 else { throw error("format(): no argument named '\(parts[0])'") }
                    value = found
                }
                for attribute in parts.dropFirst() { value = try attributeValue(value, attribute) }
                out += value.pythonString
                index = close + 1
            } else if scalar == "}" {
                guard index + 1 < scalars.count, scalars[index + 1] == "}" else { throw error("format(): single '}' encountered") }
                out += "}"
                index += 2
            } else {
                out.unicodeScalars.append(scalar)
                index += 1
            }
        }
        return out
    }

    // MARK: Python string functions

    /// Python's whitespace for `strip()` and `split()`.
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    static func strip(_ string: String, _ characters: String?, leading: Bool, trailing: Bool) throws -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func strippable(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? isPythonSpace(scalar) }
        var scalars = Array(string.unicodeScalars)[...]
        if leading { while let first = scalars.first, strippable(first) { scalars.removeFirst() } }
        if trailing { while let last = scalars.last, strippable(last) { scalars.removeLast() } }
        var out = ""
        out.unicodeScalars.append(contentsOf: scalars)
        return out
    }

    static func split(_ string: String, _ separator: String?, limit: Int, fromRight: Bool) throws -> [String] {
        let scalars = Array(string.unicodeScalars)
        func make(_ slice: ArraySlice<Unicode.Scalar>) -> String {
            var out = ""
            out.unicodeScalars.append(contentsOf: slice)
            return out
        }
        guard let separator else {
            // Runs of whitespace separate; leading/trailing whitespace gives no empty parts.
            var parts: [String] = []
            if fromRight {
                var end = scalars.count
                while true {
                    while end > 0, isPythonSpace(scalars[end - 1]) { end -= 1 }
                    if end == 0 { break }
                    if limit >= 0 && parts.count == limit {
                        parts.append(make(scalars[0..<end]))
                        break
                    }
                    var start = end
                    while start > 0, !isPythonSpace(scalars[start - 1]) { start -= 1 }
                    parts.append(make(scalars[start..<end]))
                    end = start
                }
                return parts.reversed()
            }
            var start = 0
            while true {
                while start < scalars.count, isPythonSpace(scalars[start]) { start += 1 }
                if start == scalars.count { break }
                if limit >= 0 && parts.count == limit {
                    var end = scalars.count
                    while end > start, isPythonSpace(scalars[end - 1]) { end -= 1 }
                    parts.append(make(scalars[start..<end]))
                    break
                }
                var end = start
                while end < scalars.count, !isPythonSpace(scalars[end]) { end += 1 }
                parts.append(make(scalars[start..<end]))
                start = end
            }
            return parts
        }
        let target = Array(separator.unicodeScalars)
        guard !target.isEmpty else { return [string] }  // callers refuse an empty separator first
        var cuts: [Int] = []
        var position = 0
        while position + target.count <= scalars.count {
            if scalars[position..<(position + target.count)].elementsEqual(target) {
                cuts.append(position)
                position += target.count
            } else {
                position += 1
            }
        }
        if limit >= 0 && cuts.count > limit { cuts = fromRight ? Array(cuts.suffix(limit)) : Array(cuts.prefix(limit)) }
        var parts: [String] = []
        var start = 0
        for cut in cuts {
            parts.append(make(scalars[start..<cut]))
            start = cut + target.count
        }
        parts.append(make(scalars[start...]))
        return parts
    }

    static func replace(_ string: String, _ old: String, _ new: String, count: Int?) -> String {
        let limit = count.flatMap { $0 < 0 ? nil : $0 }
        if old.isEmpty {
            // Python inserts `new` between every character and at both ends.
            var out = ""
            var done = 0
            for scalar in string.unicodeScalars {
                if limit.map({ done < $0 }) ?? true {
                    out += new
                    done += 1
                }
                out.unicodeScalars.append(scalar)
            }
            if limit.map({ done < $0 }) ?? true { out += new }
            return out
        }
        let scalars = Array(string.unicodeScalars), target = Array(old.unicodeScalars)
        var out = ""
        var position = 0, done = 0
        while position < scalars.count {
            if limit.map({ done < $0 }) ?? true, position + target.count <= scalars.count,
                scalars[position..<(position + target.count)].elementsEqual(target)
            {
                out += new
                position += target.count
                done += 1
            } else {
                out.unicodeScalars.append(scalars[position])
                position += 1
            }
        }
        return out
    }

    static func upper(_ string: String) -> String { string.uppercased() }
    static func lower(_ string: String) -> String { string.lowercased() }

    /// jinja2's `title` filter: words begin after runs of `-`, whitespace, `(`, `{`, `[`, `<`.
    static func titleFilter(_ string: String) -> String {
        var out = ""
        var atWordStart = true
        for character in string {
            if character == "-" || character.isWhitespace || "({[<".contains(character) {
                out.append(character)
                atWordStart = true
            } else {
                out += atWordStart ? character.uppercased() : character.lowercased()
                atWordStart = false
            }
        }
        return out
    }

    static func capitalize(_ string: String) -> String {
        guard let first = string.first else { return string }
        return first.uppercased() + string.dropFirst().lowercased()
    }

    /// Python's `str.title`: a cased character after an uncased one starts a word.
    static func title(_ string: String) -> String {
        var out = ""
        var previousCased = false
        for character in string {
            out += previousCased ? character.lowercased() : character.uppercased()
            previousCased = character.isCased
        }
        return out
    }
}
