import MVLMCore

/// Splits a template into tokens as jinja2's lexer does with transformers' settings
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`):
///
/// - newlines (`\r\n`, `\r`) become `\n`, and one trailing newline of the template is dropped;
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` all after it;
/// - `lstrip_blocks`: spaces and tabs between a line start and a `{%` or `{#` tag are removed
///   (unless the tag opens with `+`);
/// - `trim_blocks`: the first newline after a `%}` or `#}` is removed (unless it is `+%}`);
/// - `{% raw %}…{% endraw %}` is text.
struct TemplateLexer {
    let source: [Unicode.Scalar]
    let name: String
    var position = 0
    var line = 1
    var tokens: [TemplateToken] = []
    /// Whether the last thing consumed ended with a newline (jinja2's `line_starting`).
    var lineStarting = true

    init(source text: String, name: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if scalar == "\r" {
                scalars.append("\n")
                if pending == "\n" { pending = iterator.next() }
            } else {
                scalars.append(scalar)
            }
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        self.name = name
    }

    func error(_ message: String, line: Int? = nil) -> MVLMError {
        MVLMError(.malformed, message, file: name, subject: "line \(line ?? self.line)")
    }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < source.count ? source[position + offset] : nil
    }

    func starts(with text: String, at index: Int) -> Bool {
        var at = index
        for scalar in text.unicodeScalars {
            guard at < source.count, source[at] == scalar else { return false }
            at += 1
        }
        return true
    }

    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where position < source.count {
            if source[position] == "\n" { line += 1 }
            position += 1
        }
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    mutating func tokenize() throws -> [TemplateToken] {
        while position < source.count {
            // Find the next tag opening.
            var index = position
            var found: (kind: Character, at: Int)?
            while index + 1 < source.count {
                if source[index] == "{", ["{", "%", "#"].contains(source[index + 1]) {
                    found = (Character(source[index + 1]), index)
                    break
                }
                index += 1
            }
            let textEnd = found?.at ?? source.count
            var text = Array(source[position..<textEnd])
            let textLine = line
            if let found {
                let sign = found.at + 2 < source.count ? source[found.at + 2] : nil
                if sign == "-" {
                    while let last = text.last, Self.isSpace(last) { text.removeLast() }
                } else if sign != "+" && found.kind != "{" {
                    // lstrip_blocks
                    let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                    if lineStart > 0 || lineStarting, lineStart < text.count, text[lineStart...].allSatisfy(Self.isSpace) {
                        text.removeSubrange(lineStart...)
                    }
                }
            }
            if !text.isEmpty {
                var string = ""
                string.unicodeScalars.append(contentsOf: text)
                tokens.append(TemplateToken(kind: .text(string), line: textLine))
            }
            advance(textEnd - position)
            guard let found else { break }
            let hasSign = found.at + 2 < source.count && (source[found.at + 2] == "-" || source[found.at + 2] == "+")
            switch found.kind {
            case "#":
                advance(hasSign ? 3 : 2)
                try skipComment()
            case "{":
                tokens.append(TemplateToken(kind: .variableBegin, line: line))
                advance(hasSign ? 3 : 2)
                try lexInside(block: false)
            default:
                let beginLine = line
                advance(hasSign ? 3 : 2)
                if try lexRawBlock() { continue }
                tokens.append(TemplateToken(kind: .blockBegin, line: beginLine))
                try lexInside(block: true)
            }
        }
        tokens.append(TemplateToken(kind: .end, line: line))
        return tokens
    }

    /// After a tag's closing delimiter: `-` strips all following whitespace, otherwise (blocks and
    /// comments only) one newline is trimmed.
    mutating func closeTag(strip: Bool, keep: Bool, trim: Bool) {
        lineStarting = false
        if strip {
            while let scalar = peek(), Self.isSpace(scalar) {
                lineStarting = scalar == "\n"
                advance()
            }
        } else if trim && !keep && peek() == "\n" {
            advance()
            lineStarting = true
        }
    }

    mutating func skipComment() throws {
        let startLine = line
        while position < source.count {
            if starts(with: "-#}", at: position) {
                advance(3)
                closeTag(strip: true, keep: false, trim: true)
                return
            }
            if starts(with: "+#}", at: position) {
                advance(3)
                closeTag(strip: false, keep: true, trim: true)
                return
            }
            if starts(with: "#}", at: position) {
                advance(2)
                closeTag(strip: false, keep: false, trim: true)
                return
            }
            advance()
        }
        throw error("the comment opened here is never closed with '#}'", line: startLine)
    }

    /// `{% raw %}…{% endraw %}`: when the tag just opened is `raw`, its content becomes text.
    mutating func lexRawBlock() throws -> Bool {
        var at = position
        while at < source.count, Self.isSpace(source[at]) { at += 1 }
        guard starts(with: "raw", at: at) else { return false }
        at += 3
        while at < source.count, Self.isSpace(source[at]) { at += 1 }
        let stripOpen = starts(with: "-%}", at: at)
        guard stripOpen || starts(with: "%}", at: at) || starts(with: "+%}", at: at) else { return false }
        let startLine = line
        advance(at - position + (stripOpen || starts(with: "+%}", at: at) ? 3 : 2))
        if stripOpen { while let scalar = peek(), Self.isSpace(scalar) { advance() } }
        // Find {% endraw %} (with optional whitespace control).
        var scan = position
        while scan + 1 < source.count {
            if source[scan] == "{" && source[scan + 1] == "%" {
                var inner = scan + 2
                let sign = inner < source.count ? source[inner] : nil
                if sign == "-" || sign == "+" { inner += 1 }
                while inner < source.count, Self.isSpace(source[inner]) { inner += 1 }
                if starts(with: "endraw", at: inner) {
                    var text = Array(source[position..<scan])
                    if sign == "-" { while let last = text.last, Self.isSpace(last) { text.removeLast() } }
                    var string = ""
                    string.unicodeScalars.append(contentsOf: text)
                    if !string.isEmpty { tokens.append(TemplateToken(kind: .text(string), line: line)) }
                    inner += 6
                    while inner < source.count, Self.isSpace(source[inner]) { inner += 1 }
                    advance(inner - position)
                    if starts(with: "-%}", at: position) {
                        advance(3)
                        closeTag(strip: true, keep: false, trim: true)
                    } else if starts(with: "+%}", at: position) {
                        advance(3)
                        closeTag(strip: false, keep: true, trim: true)
                    } else if starts(with: "%}", at: position) {
                        advance(2)
                        closeTag(strip: false, keep: false, trim: true)
                    } else {
                        throw error("'endraw' must be followed by '%}'")
                    }
                    return true
                }
            }
            scan += 1
        }
        throw error("the raw block opened here is never closed with '{% endraw %}'", line: startLine)
    }

    static let symbols = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"]

    /// The tokens inside `{{ … }}` or `{% … %}` up to and including the closing delimiter.
    mutating func lexInside(block: Bool) throws {
        let openLine = line
        var depth = 0
        while true {
            guard let scalar = peek() else {
                throw error("the tag opened here is never closed with '\(block ? "%}" : "}}")'", line: openLine)
            }
            if Self.isSpace(scalar) {
                advance()
                continue
            }
            let close = block ? "%}" : "}}"
            if depth == 0 || block {
                if starts(with: "-" + close, at: position) {
                    tokens.append(TemplateToken(kind: block ? .blockEnd : .variableEnd, line: line))
                    advance(3)
                    closeTag(strip: true, keep: false, trim: block)
                    return
                }
                if block && starts(with: "+%}", at: position) {
                    tokens.append(TemplateToken(kind: .blockEnd, line: line))
                    advance(3)
                    closeTag(strip: false, keep: true, trim: true)
                    return
                }
                if starts(with: close, at: position) {
                    tokens.append(TemplateToken(kind: block ? .blockEnd : .variableEnd, line: line))
                    advance(2)
                    closeTag(strip: false, keep: false, trim: block)
                    return
                }
            }
            if scalar == "_" || scalar.properties.isAlphabetic {
                var name = ""
                while let next = peek(), next == "_" || next.properties.isAlphabetic || ("0"..."9").contains(next) {
                    name.unicodeScalars.append(next)
                    advance()
                }
                tokens.append(TemplateToken(kind: .name(name), line: line))
                continue
            }
            if ("0"..."9").contains(scalar) {
                try lexNumber()
                continue
            }
            if scalar == "'" || scalar == "\"" {
                try lexString(quote: scalar)
                continue
            }
            guard let symbol = Self.symbols.first(where: { starts(with: $0, at: position) }) else {
                throw error("unexpected character '\(scalar)' inside a tag")
            }
            if symbol == "(" || symbol == "[" || symbol == "{" { depth += 1 }
            if symbol == ")" || symbol == "]" || symbol == "}" { depth = max(0, depth - 1) }
            tokens.append(TemplateToken(kind: .symbol(symbol), line: line))
            advance(symbol.unicodeScalars.count)
        }
    }

    mutating func lexNumber() throws {
        var text = ""
        var isFloat = false
        while let next = peek(), ("0"..."9").contains(next) || next == "_" {
            if next != "_" { text.unicodeScalars.append(next) }
            advance()
        }
        if peek() == ".", let after = peek(1), ("0"..."9").contains(after) {
            isFloat = true
            text += "."
            advance()
            while let next = peek(), ("0"..."9").contains(next) || next == "_" {
                if next != "_" { text.unicodeScalars.append(next) }
                advance()
            }
        }
        if let e = peek(), e == "e" || e == "E" {
            var offset = 1
            if let sign = peek(1), sign == "+" || sign == "-" { offset = 2 }
            if let digit = peek(offset), ("0"..."9").contains(digit) {
                isFloat = true
                text += "e"
                if offset == 2 { text.unicodeScalars.append(peek(1)!) }
                advance(offset)
                while let next = peek(), ("0"..."9").contains(next) {
                    text.unicodeScalars.append(next)
                    advance()
                }
            }
        }
        if isFloat {
            guard let value = Double(text) else { throw error("bad number '\(text)'") }
            tokens.append(TemplateToken(kind: .float(value), line: line))
        } else {
            guard let value = Int(text) else { throw error("integer '\(text)' is too large") }
            tokens.append(TemplateToken(kind: .integer(value), line: line))
        }
    }

    /// A string literal, with Python's escapes decoded (unknown escapes stay as written).
    mutating func lexString(quote: Unicode.Scalar) throws {
        let startLine = line
        advance()
        var value = ""
        while true {
            guard let scalar = peek() else { throw error("the string opened here is never closed", line: startLine) }
            advance()
            if scalar == quote { break }
            guard scalar == "\\" else {
                value.unicodeScalars.append(scalar)
                continue
            }
            guard let escaped = peek() else { throw error("the string opened here is never closed", line: startLine) }
            advance()
            switch escaped {
            case "n": value += "\n"
            case "t": value += "\t"
            case "r": value += "\r"
            case "\\": value += "\\"
            case "'": value += "'"
            case "\"": value += "\""
            case "a": value += "\u{07}"
            case "b": value += "\u{08}"
            case "f": value += "\u{0C}"
            case "v": value += "\u{0B}"
            case "0": value += "\u{00}"
            case "\n": break
            case "x", "u", "U":
                let width = escaped == "x" ? 2 : escaped == "u" ? 4 : 8
                var digits = ""
                for _ in 0..<width {
                    guard let digit = peek(), digit.properties.isASCIIHexDigit else {
                        throw error("truncated \\\(escaped) escape in a string")
                    }
                    digits.unicodeScalars.append(digit)
                    advance()
                }
                guard let code = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(code) else {
                    throw error("\\\(escaped)\(digits) is not a character")
                }
                value.unicodeScalars.append(decoded)
            default:
                value += "\\"
                value.unicodeScalars.append(escaped)
            }
        }
        tokens.append(TemplateToken(kind: .string(value), line: line))
    }
}
