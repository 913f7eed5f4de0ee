import MVLMCore

/// Builds the statement tree from tokens, with jinja2's grammar and operator precedence (lowest
/// first): `x if c else y`, `or`, `and`, `not`, comparisons (`==`, `in`, `not in`…), `+ -`, `~`,
/// `* / // %`, `**`, unary `- +`, then postfix (`.name`, `[i]`, `[a:b]`, calls), filters `|f` and
/// tests `is t`.
struct TemplateParser {
    let tokens: [TemplateToken]
    let name: String
    var index = 0
    /// Nesting depth of expressions and blocks, bounded so a hostile template cannot exhaust the stack.
    var depth = 0
    static let maximumDepth = 200

    init(tokens: [TemplateToken], name: String) {
        self.tokens = tokens
        self.name = name
    }

    var current: TemplateToken { tokens[index] }

    func error(_ message: String, line: Int? = nil) -> MVLMError {
        MVLMError(.malformed, message, file: name, subject: "line \(line ?? current.line)")
    }

    mutating func next() -> TemplateToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }
    func isName(_ word: String) -> Bool { current.kind == .name(word) }

    mutating func skip(symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    mutating func skip(name word: String) -> Bool {
        guard isName(word) else { return false }
        index += 1
        return true
    }

    mutating func expect(symbol: String, in construct: String) throws {
        guard skip(symbol: symbol) else { throw error("expected '\(symbol)' in \(construct), found \(current.describe)") }
    }

    mutating func expectName(in construct: String) throws -> String {
        guard case .name(let word) = current.kind else {
            throw error("expected a name in \(construct), found \(current.describe)")
        }
        index += 1
        return word
    }

    mutating func expectBlockEnd(_ construct: String) throws {
        guard current.kind == .blockEnd else { throw error("expected '%}' to end '\(construct)', found \(current.describe)") }
        index += 1
    }

    mutating func enter() throws {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth) levels") }
    }

    // MARK: statements

    /// Parses the whole template.
    mutating func parseTemplate() throws -> [TemplateNode] {
        let (nodes, end) = try parseNodes(until: [])
        _ = end  // parseNodes(until: []) never returns an end tag
        return nodes
    }

    /// Nodes up to a block tag named in `enders` (returned, with the parser just after its name).
    mutating func parseNodes(until enders: Set<String>) throws -> ([TemplateNode], String?) {
        try enter()
        defer { depth -= 1 }
        var nodes: [TemplateNode] = []
        while true {
            let token = current
            switch token.kind {
            case .end:
                return (nodes, nil)
            case .text(let text):
                index += 1
                nodes.append(.text(text))
            case .variableBegin:
                index += 1
                let expression = try parseTuple()
                guard current.kind == .variableEnd else { throw error("expected '}}' after an expression, found \(current.describe)") }
                index += 1
                nodes.append(.output(expression, line: token.line))
            case .blockBegin:
                index += 1
                guard case .name(let keyword) = current.kind else { throw error("expected a statement name after '{%', found \(current.describe)") }
                if enders.contains(keyword) {
                    index += 1
                    return (nodes, keyword)
                }
                if keyword.hasPrefix("end") || keyword == "elif" || keyword == "else" {
                    let wanted = enders.isEmpty ? "no block is open" : "expected " + enders.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw error("unexpected '{% \(keyword) %}' (\(wanted))")
                }
                index += 1
                nodes.append(try parseStatement(keyword, line: token.line))
            default:
                throw error("unexpected \(token.describe)")
            }
        }
    }

    mutating func parseBody(_ construct: String, until enders: Set<String>, line: Int) throws -> ([TemplateNode], String) {
        let (nodes, end) = try parseNodes(until: enders)
        guard let end else {
            throw error("'{% \(construct) %}' opened on line \(line) is never closed (expected \(enders.sorted().map { "'\($0)'" }.joined(separator: " or ")))", line: line)
        }
        return (nodes, end)
    }

    mutating func parseStatement(_ keyword: String, line: Int) throws -> TemplateNode {
        switch keyword {
        case "if":
            var branches: [(TemplateExpression, [TemplateNode])] = []
            var condition = try parseExpression()
            try expectBlockEnd("if")
            while true {
                let (body, end) = try parseBody("if", until: ["elif", "else", "endif"], line: line)
                branches.append((condition, body))
                switch end {
                case "elif":
                    condition = try parseExpression()
                    try expectBlockEnd("elif")
                case "else":
                    try expectBlockEnd("else")
                    let (otherwise, _) = try parseBody("if", until: ["endif"], line: line)
                    try expectBlockEnd("endif")
                    return .conditional(branches: branches, otherwise: otherwise, line: line)
                default:
                    try expectBlockEnd("endif")
                    return .conditional(branches: branches, otherwise: [], line: line)
                }
            }
        case "for":
            var targets = [try expectName(in: "for")]
            while skip(symbol: ",") { targets.append(try expectName(in: "for")) }
            guard skip(name: "in") else { throw error("expected 'in' in 'for', found \(current.describe)") }
            let iterable = try parseTuple(withConditional: false)
            var condition: TemplateExpression?
            if skip(name: "if") { condition = try parseExpression() }
            if isName("recursive") { throw error("recursive loops are not supported") }
            try expectBlockEnd("for")
            let (body, end) = try parseBody("for", until: ["else", "endfor"], line: line)
            var otherwise: [TemplateNode] = []
            if end == "else" {
                try expectBlockEnd("else")
                (otherwise, _) = try parseBody("for", until: ["endfor"], line: line)
            }
            try expectBlockEnd("endfor")
            return .loop(TemplateLoop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise, line: line))
        case "set":
            let target = try parseTarget()
            if skip(symbol: "=") {
                let value = try parseTuple()
                try expectBlockEnd("set")
                return .set(target, value, line: line)
            }
            var filters: [(String, TemplateArguments)] = []
            while skip(symbol: "|") { filters.append(try parseFilterCall()) }
            try expectBlockEnd("set")
            let (body, _) = try parseBody("set", until: ["endset"], line: line)
            try expectBlockEnd("endset")
            return .setBlock(target, filters: filters, body: body, line: line)
        case "macro":
            let macroName = try expectName(in: "macro")
            let (parameters, defaults) = try parseSignature("macro")
            try expectBlockEnd("macro")
            let (body, _) = try parseBody("macro", until: ["endmacro"], line: line)
            if case .name = current.kind { index += 1 }  // {% endmacro name %}
            try expectBlockEnd("endmacro")
            return .macro(TemplateMacro(name: macroName, parameters: parameters, defaults: defaults, body: body, line: line))
        case "call":
            var parameters: [String] = [], defaults: [String: TemplateExpression] = [:]
            if isSymbol("(") { (parameters, defaults) = try parseSignature("call") }
            let call = try parseExpression()
            guard case .call = call else { throw error("'call' needs a macro call, e.g. {% call m() %}") }
            try expectBlockEnd("call")
            let (body, _) = try parseBody("call", until: ["endcall"], line: line)
            try expectBlockEnd("endcall")
            return .callBlock(call, caller: TemplateMacro(name: "caller", parameters: parameters, defaults: defaults, body: body, line: line), line: line)
        case "filter":
            var filters = [try parseFilterCall()]
            while skip(symbol: "|") { filters.append(try parseFilterCall()) }
            try expectBlockEnd("filter")
            let (body, _) = try parseBody("filter", until: ["endfilter"], line: line)
            try expectBlockEnd("endfilter")
            return .filterBlock(filters, body: body, line: line)
        case "break":
            try expectBlockEnd("break")
            return .breakLoop(line: line)
        case "continue":
            try expectBlockEnd("continue")
            return .continueLoop(line: line)
        case "generation":
            try expectBlockEnd("generation")
            let (body, _) = try parseBody("generation", until: ["endgeneration"], line: line)
            try expectBlockEnd("endgeneration")
            return .generation(body)
        default:
            throw error("statement '\(keyword)' is not supported (if, for, set, macro, call, filter, break, continue, raw, generation)", line: line)
        }
    }

    mutating func parseTarget() throws -> TemplateTarget {
        let first = try expectName(in: "set")
        if skip(symbol: ".") { return .attribute(first, try expectName(in: "set")) }
        var names = [first]
        while skip(symbol: ",") { names.append(try expectName(in: "set")) }
        return .names(names)
    }

    mutating func parseSignature(_ construct: String) throws -> ([String], [String: TemplateExpression]) {
        try expect(symbol: "(", in: construct)
        var parameters: [String] = [], defaults: [String: TemplateExpression] = [:]
        while !skip(symbol: ")") {
            if !parameters.isEmpty { try expect(symbol: ",", in: construct) }
            if skip(symbol: ")") { break }
            let parameter = try expectName(in: construct)
            parameters.append(parameter)
            if skip(symbol: "=") { defaults[parameter] = try parseExpression() }
        }
        return (parameters, defaults)
    }

    mutating func parseFilterCall() throws -> (String, TemplateArguments) {
        var filterName = try expectName(in: "a filter")
        while skip(symbol: ".") { filterName += "." + (try expectName(in: "a filter")) }
        let arguments = isSymbol("(") ? try parseCallArguments() : TemplateArguments()
        return (filterName, arguments)
    }

    // MARK: expressions

    /// An expression, or a tuple of them when commas follow (`{{ a, b }}`, `set a, b = …`).
    mutating func parseTuple(withConditional: Bool = true) throws -> TemplateExpression {
        let first = withConditional ? try parseExpression() : try parseOr()
        guard isSymbol(",") else { return first }
        var items = [first]
        while skip(symbol: ",") {
            if current.kind == .blockEnd || current.kind == .variableEnd || isName("if") { break }
            items.append(withConditional ? try parseExpression() : try parseOr())
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> TemplateExpression {
        try enter()
        defer { depth -= 1 }
        var expression = try parseOr()
        while skip(name: "if") {
            let condition = try parseOr()
            let otherwise = skip(name: "else") ? try parseExpression() : nil
            expression = .conditional(condition: condition, then: expression, otherwise: otherwise)
        }
        return expression
    }

    mutating func parseOr() throws -> TemplateExpression {
        var left = try parseAnd()
        while skip(name: "or") { left = .or(left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws -> TemplateExpression {
        var left = try parseNot()
        while skip(name: "and") { left = .and(left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws -> TemplateExpression {
        if skip(name: "not") {
            try enter()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> TemplateExpression {
        let left = try parseMath1()
        var operations: [(String, TemplateExpression)] = []
        while true {
            if case .symbol(let symbol) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(symbol) {
                index += 1
                operations.append((symbol, try parseMath1()))
            } else if skip(name: "in") {
                operations.append(("in", try parseMath1()))
            } else if isName("not"), index + 1 < tokens.count, tokens[index + 1].kind == .name("in") {
                index += 2
                operations.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : .compare(left, operations)
    }

    mutating func parseMath1() throws -> TemplateExpression {
        var left = try parseConcat()
        while case .symbol(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            index += 1
            left = .binary(symbol, left, try parseConcat())
        }
        return left
    }

    mutating func parseConcat() throws -> TemplateExpression {
        var left = try parseMath2()
        while skip(symbol: "~") { left = .binary("~", left, try parseMath2()) }
        return left
    }

    mutating func parseMath2() throws -> TemplateExpression {
        var left = try parsePower()
        while case .symbol(let symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) {
            index += 1
            left = .binary(symbol, left, try parsePower())
        }
        return left
    }

    mutating func parsePower() throws -> TemplateExpression {
        var left = try parseUnary()
        while skip(symbol: "**") { left = .binary("**", left, try parseUnary()) }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> TemplateExpression {
        try enter()
        defer { depth -= 1 }
        var expression: TemplateExpression
        if skip(symbol: "-") {
            expression = .negate(try parseUnary(withFilter: false))
        } else if skip(symbol: "+") {
            expression = .plus(try parseUnary(withFilter: false))
        } else {
            expression = try parsePrimary()
        }
        expression = try parsePostfix(expression)
        if withFilter { expression = try parseFilterExpression(expression) }
        return expression
    }

    mutating func parsePrimary() throws -> TemplateExpression {
        let token = next()
        switch token.kind {
        case .name(let word):
            switch word {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(word)
            }
        case .string(var text):
            while case .string(let more) = current.kind {  // adjacent literals concatenate
                text += more
                index += 1
            }
            return .literal(.string(text))
        case .integer(let value): return .literal(.int(value))
        case .float(let value): return .literal(.double(value))
        case .symbol("("):
            if skip(symbol: ")") { return .tuple([]) }
            let inner = try parseTuple()
            try expect(symbol: ")", in: "a parenthesized expression")
            return inner
        case .symbol("["):
            var items: [TemplateExpression] = []
            while !skip(symbol: "]") {
                if !items.isEmpty { try expect(symbol: ",", in: "a list") }
                if skip(symbol: "]") { break }
                items.append(try parseExpression())
            }
            return .list(items)
        case .symbol("{"):
            var pairs: [(TemplateExpression, TemplateExpression)] = []
            while !skip(symbol: "}") {
                if !pairs.isEmpty { try expect(symbol: ",", in: "a dict") }
                if skip(symbol: "}") { break }
                let key = try parseExpression()
                try expect(symbol: ":", in: "a dict")
                pairs.append((key, try parseExpression()))
            }
            return .dict(pairs)
        default:
            throw error("unexpected \(token.describe) where an expression should be", line: token.line)
        }
    }

    mutating func parsePostfix(_ base: TemplateExpression) throws -> TemplateExpression {
        var expression = base
        while true {
            if skip(symbol: ".") {
                switch next().kind {
                case .name(let attribute): expression = .attribute(expression, attribute)
                case .integer(let position): expression = .item(expression, .literal(.int(position)))
                default: throw error("expected an attribute name after '.'")
                }
            } else if skip(symbol: "[") {
                expression = try parseSubscript(expression)
            } else if isSymbol("(") {
                expression = .call(expression, try parseCallArguments())
            } else {
                return expression
            }
        }
    }

    mutating func parseSubscript(_ base: TemplateExpression) throws -> TemplateExpression {
        var parts: [TemplateExpression?] = [nil]
        var isSlice = false
        while !skip(symbol: "]") {
            if skip(symbol: ":") {
                isSlice = true
                parts.append(nil)
                if parts.count > 3 { throw error("a slice has at most three parts") }
                continue
            }
            guard parts[parts.count - 1] == nil else { throw error("expected ']' or ':' in a subscript, found \(current.describe)") }
            parts[parts.count - 1] = try parseExpression()
        }
        if !isSlice {
            guard let key = parts[0] else { throw error("empty subscript '[]'") }
            return .item(base, key)
        }
        while parts.count < 3 { parts.append(nil) }
        return .slice(base, parts[0], parts[1], parts[2])
    }

    mutating func parseCallArguments() throws -> TemplateArguments {
        try expect(symbol: "(", in: "a call")
        var arguments = TemplateArguments()
        while !skip(symbol: ")") {
            if !arguments.positional.isEmpty || !arguments.keyword.isEmpty { try expect(symbol: ",", in: "a call's arguments") }
            if skip(symbol: ")") { break }
            if case .name(let key) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .symbol("=") {
                index += 2
                arguments.keyword.append((key, try parseExpression()))
            } else {
                if isSymbol("*") || isSymbol("**") { throw error("*args and **kwargs in calls are not supported") }
                arguments.positional.append(try parseExpression())
            }
        }
        return arguments
    }

    mutating func parseFilterExpression(_ base: TemplateExpression) throws -> TemplateExpression {
        var expression = base
        while true {
            if skip(symbol: "|") {
                let (filterName, arguments) = try parseFilterCall()
                expression = .filter(expression, filterName, arguments)
            } else if skip(name: "is") {
                let negated = skip(name: "not")
                var testName = try expectName(in: "a test")
                while skip(symbol: ".") { testName += "." + (try expectName(in: "a test")) }
                var arguments = TemplateArguments()
                if isSymbol("(") {
                    arguments = try parseCallArguments()
                } else if Self.startsPrimary(current.kind) {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                expression = .test(expression, testName, arguments, negated: negated)
            } else if isSymbol("(") {
                expression = .call(expression, try parseCallArguments())
            } else {
                return expression
            }
        }
    }

    static func startsPrimary(_ kind: TemplateToken.Kind) -> Bool {
        switch kind {
        case .name(let word): !["else", "or", "and", "if", "in", "not", "is"].contains(word)
        case .string, .integer, .float: true
        case .symbol(let symbol): symbol == "[" || symbol == "{"
        default: false
        }
    }
}
