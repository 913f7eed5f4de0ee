import MVLMCore

extension SplitPattern {
    /// A recursive-descent parser of the pattern syntax `SplitPattern` documents.
    struct Parser {
        let source: String
        let scalars: [Unicode.Scalar]
        var position = 0
        var caseInsensitive = false

        init(_ source: String) {
            self.source = source
            scalars = Array(source.unicodeScalars)
        }

        mutating func parse() throws -> Node {
            let node = try parseAlternation()
            guard position == scalars.count else { throw error(.malformed, "unbalanced ')'") }
            return node
        }

        private func error(_ code: MVLMError.Code, _ message: String) -> MVLMError {
            MVLMError(code, "\(message) at offset \(position) (in scalars)", subject: "pattern \(source.debugDescription)")
        }

        private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        private mutating func take(_ scalar: Unicode.Scalar) -> Bool {
            guard current == scalar else { return false }
            position += 1
            return true
        }

        private mutating func parseAlternation() throws -> Node {
            var options = [try parseSequence()]
            while take("|") { options.append(try parseSequence()) }
            return options.count == 1 ? options[0] : .alternation(options)
        }

        private mutating func parseSequence() throws -> Node {
            var items: [Node] = []
            while let scalar = current, scalar != "|", scalar != ")" {
                items.append(try parseQuantified())
            }
            return Self.simplified(items)
        }

        /// A sequence with every `(?=A)B` and `(?!A)B` over single scalars folded into one set
        /// (llama.cpp writes `[\p{Lu}…]` as `((?=[\p{L}])([^a-z]))`), so repetitions of it stay on
        /// the fast path.
        static func simplified(_ items: [Node]) -> Node {
            var output: [Node] = []
            var index = 0
            while index < items.count {
                if index + 1 < items.count, case .lookahead(.scalar(let condition), let negated) = items[index],
                    case .scalar(let set) = items[index + 1]
                {
                    output.append(.scalar(.intersection([negated ? .complement(condition) : condition, set])))
                    index += 2
                } else {
                    output.append(items[index])
                    index += 1
                }
            }
            return output.count == 1 ? output[0] : .sequence(output)
        }

        private mutating func parseQuantified() throws -> Node {
            let atom = try parseAtom()
            var node = atom
            while let scalar = current {
                var minimum = 0
                var maximum: Int?
                switch scalar {
                case "?": maximum = 1
                case "*": break
                case "+": minimum = 1
                case "{":
                    guard let bounds = try parseBounds() else { return node }
                    (minimum, maximum) = bounds
                    position -= 1  // parseBounds consumed the '}'; the common step below skips it
                default:
                    return node
                }
                position += 1
                switch node {
                case .start, .end, .wordBoundary, .lookahead:
                    throw error(.malformed, "nothing to repeat")
                default:
                    break
                }
                var mode = RepetitionMode.greedy
                if take("?") {
                    mode = .lazy
                } else if take("+") {
                    mode = .possessive
                }
                node = .repetition(node, minimum: minimum, maximum: maximum, mode: mode)
            }
            return node
        }

        /// `{n}`, `{n,}` or `{n,m}` at the current `{`, consumed; nil (nothing consumed) when the
        /// brace does not start a quantifier, in which case it is a literal.
        private mutating func parseBounds() throws -> (Int, Int?)? {
            let start = position
            position += 1
            func number() -> Int? {
                var value: Int?
                while let scalar = current, let digit = Int(String(scalar)), scalar.isASCII {
                    value = (value ?? 0) * 10 + digit
                    if value! > 100_000 { return nil }
                    position += 1
                }
                return value
            }
            guard let minimum = number() else {
                position = start
                return nil
            }
            var maximum: Int? = minimum
            if take(",") { maximum = number() }
            guard take("}") else {
                position = start
                return nil
            }
            if let maximum, maximum < minimum { throw error(.malformed, "quantifier {\(minimum),\(maximum)} has max < min") }
            return (minimum, maximum)
        }

        private mutating func parseAtom() throws -> Node {
            guard let scalar = current else { throw error(.malformed, "unexpected end") }
            position += 1
            switch scalar {
            case "(":
                return try parseGroup()
            case "[":
                return .scalar(try parseClass())
            case ".":
                return .scalar(.complement(.range(0x0A, 0x0A)))
            case "^":
                return .start
            case "$":
                return .end
            case "\\":
                return try parseEscape()
            case "*", "+", "?":
                throw error(.malformed, "nothing to repeat")
            case ")":
                throw error(.malformed, "unbalanced ')'")
            default:
                return .scalar(literal(scalar))
            }
        }

        private func literal(_ scalar: Unicode.Scalar) -> ScalarSet {
            let set = ScalarSet.range(scalar.value, scalar.value)
            return caseInsensitive ? .asciiCaseFolded(set) : set
        }

        private mutating func parseGroup() throws -> Node {
            let saved = caseInsensitive
            defer { caseInsensitive = saved }
            var lookahead: Bool?  // negated?
            if take("?") {
                if take(":") {
                } else if take("=") {
                    lookahead = false
                } else if take("!") {
                    lookahead = true
                } else if take("i"), take(":") {
                    caseInsensitive = true
                } else if take("<"), let next = current, next != "=", next != "!" {
                    // A named group: the name is irrelevant, nothing is captured.
                    while let name = current, name != ">" { position += 1 }
                    guard take(">") else { throw error(.malformed, "unterminated group name") }
                } else {
                    throw error(.unsupported, "group syntax '(?\(current.map { String($0) } ?? "")' (lookbehind, flags other than i, atomic groups) is not supported")
                }
            }
            let body = try parseAlternation()
            guard take(")") else { throw error(.malformed, "missing ')'") }
            if let negated = lookahead { return .lookahead(body, negated: negated) }
            return body
        }

        /// An escape outside a class (after the backslash).
        private mutating func parseEscape() throws -> Node {
            guard let scalar = current else { throw error(.malformed, "pattern ends with '\\'") }
            switch scalar {
            case "b":
                position += 1
                return .wordBoundary(negated: false)
            case "B":
                position += 1
                return .wordBoundary(negated: true)
            default:
                return .scalar(try parseEscapedSet())
            }
        }

        /// The set an escape stands for (after the backslash), inside or outside a class.
        private mutating func parseEscapedSet() throws -> ScalarSet {
            guard let scalar = current else { throw error(.malformed, "pattern ends with '\\'") }
            position += 1
            switch scalar {
            case "s": return .whitespace
            case "S": return .complement(.whitespace)
            case "d": return .categories(UnicodeCategory.decimalNumber.bit)
            case "D": return .complement(.categories(UnicodeCategory.decimalNumber.bit))
            case "w": return SplitPattern.wordSet
            case "W": return .complement(SplitPattern.wordSet)
            case "p", "P":
                guard take("{") else { throw error(.unsupported, "\\\(scalar) without braces") }
                var name = ""
                while let next = current, next != "}" {
                    name.unicodeScalars.append(next)
                    position += 1
                }
                guard take("}") else { throw error(.malformed, "unterminated \\\(scalar){") }
                guard let mask = UnicodeCategory.mask(named: name) else {
                    throw error(.unsupported, "Unicode property '\(name)' is not supported (general categories only, no scripts)")
                }
                return scalar == "p" ? .categories(mask) : .complement(.categories(mask))
            case "r": return .range(0x0D, 0x0D)
            case "n": return .range(0x0A, 0x0A)
            case "t": return .range(0x09, 0x09)
            case "f": return .range(0x0C, 0x0C)
            case "v": return .range(0x0B, 0x0B)
            case "0": return .range(0, 0)
            case "x", "u":
                var digits = ""
                let braced = take("{")
                let count = braced ? 8 : (scalar == "x" ? 2 : 4)
                while digits.count < count, let next = current, next.properties.isASCIIHexDigit {
                    digits.unicodeScalars.append(next)
                    position += 1
                }
                if braced && !take("}") { throw error(.malformed, "unterminated \\\(scalar){") }
                guard !digits.isEmpty, let value = UInt32(digits, radix: 16), Unicode.Scalar(value) != nil else {
                    throw error(.malformed, "bad \\\(scalar) escape")
                }
                return literal(Unicode.Scalar(value)!)
            default:
                if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                    throw error(.unsupported, "escape '\\\(scalar)' is not supported")
                }
                return literal(scalar)
            }
        }

        /// A bracketed class (after the `[`).
        private mutating func parseClass() throws -> ScalarSet {
            let negated = take("^")
            var items: [ScalarSet] = []
            var first = true
            while true {
                guard let scalar = current else { throw error(.malformed, "missing ']'") }
                if scalar == "]" && !first {
                    position += 1
                    break
                }
                first = false
                if scalar == "[" { throw error(.unsupported, "nested character classes are not supported") }
                if scalar == "&", position + 1 < scalars.count, scalars[position + 1] == "&" {
                    throw error(.unsupported, "class intersection '&&' is not supported")
                }
                // One item: a set from an escape, or a scalar that may start a range.
                var lowerBound: Unicode.Scalar?
                if scalar == "\\" {
                    position += 1
                    let set = try parseEscapedSet()
                    guard case .range(let low, let high) = set.unfolded, low == high else {
                        items.append(set)
                        continue
                    }
                    lowerBound = Unicode.Scalar(low)
                } else {
                    position += 1
                    lowerBound = scalar
                }
                guard let low = lowerBound else { continue }
                // A range `a-z` (a '-' before ']' is literal).
                if current == "-", position + 1 < scalars.count, scalars[position + 1] != "]" {
                    position += 1
                    var high = scalars[position]
                    position += 1
                    if high == "\\" {
                        let set = try parseEscapedSet()
                        guard case .range(let value, let same) = set.unfolded, value == same else {
                            throw error(.malformed, "a class escape cannot end a range")
                        }
                        high = Unicode.Scalar(value)!
                    }
                    guard low.value <= high.value else { throw error(.malformed, "range out of order") }
                    items.append(.range(low.value, high.value))
                } else {
                    items.append(.range(low.value, low.value))
                }
            }
            var set: ScalarSet = items.count == 1 ? items[0] : .union(items)
            if caseInsensitive { set = .asciiCaseFolded(set) }
            return negated ? .complement(set) : set
        }
    }
}

extension SplitPattern.ScalarSet {
    /// The set without an `asciiCaseFolded` wrapper.
    var unfolded: Self {
        if case .asciiCaseFolded(let inner) = self { return inner }
        return self
    }
}
