import MVLMCore

/// A chat template compiled once and rendered for any conversation, as transformers'
/// `apply_chat_template` renders it with jinja2 (`ImmutableSandboxedEnvironment`,
/// `trim_blocks=True`, `lstrip_blocks=True`, `loopcontrols`, `raise_exception`, `strftime_now`,
/// its own `tojson`). docs/chat-templates.md lists the supported subset.
///
/// Rendering is sandboxed: a template sees only the values passed in and the built-ins; there is
/// no attribute access beyond the documented methods, no mutation of passed-in data, and the work
/// a template can do is bounded (`Limits`), so a hostile template fails with an error instead of
/// hanging or exhausting memory.
public struct ChatTemplate: Sendable {
    /// Bounds on the work one render may do.
    public struct Limits: Sendable {
        /// Largest output, and largest string any operation may build, in UTF-8 bytes.
        public var maximumOutputBytes = 8 << 20
        /// Total loop iterations, macro calls and filter-internal element visits.
        public var maximumSteps = 250_000
        /// Macro calls nested in one another.
        public var maximumCallDepth = 64
        /// Longest `range()`, and longest list any operation may build.
        public var maximumListLength = 100_000

        public init() {}
    }

    /// The name errors give the template (a file name, or "chat template").
    public let name: String
    let nodes: [TemplateNode]

    /// Compiles `source`.
    /// - Parameters:
    ///   - source: the Jinja text.
    ///   - name: how errors name the template.
    /// - Throws: `MVLMError` (`.malformed`) naming the line and construct of a syntax error.
    public init(_ source: String, name: String = "chat template") throws {
        guard source.utf8.count <= 4 << 20 else {
            throw MVLMError(.outOfBounds, "the template is \(source.utf8.count) bytes; at most 4 MiB is accepted", file: name)
        }
        self.name = name
        var lexer = TemplateLexer(source: source, name: name)
        var parser = TemplateParser(tokens: try lexer.tokenize(), name: name)
        nodes = try parser.parseTemplate()
    }

    /// Renders the template with `context` as its variables (`messages`, `add_generation_prompt`,
    /// `bos_token`, `eos_token`, `tools`, any custom keyword argument).
    ///
    /// - Parameters:
    ///   - context: the variables, by name.
    ///   - now: the date `strftime_now` formats (transformers uses the current local time).
    ///   - limits: the bounds of this render.
    /// - Returns: the rendered text.
    /// - Throws: `MVLMError`: `.invalidArgument` for `raise_exception(msg)` (with the message),
    ///   `.malformed` for type errors and unknown filters, `.outOfBounds` when a limit is hit; each
    ///   names the template and line.
    public func render(_ context: [String: TemplateValue], now: TemplateDate = .init(), limits: Limits = .init()) throws -> String {
        var renderer = TemplateRenderer(name: name, globals: context, now: now, limits: limits)
        return try renderer.render(nodes)
    }

    /// The variables transformers passes to a chat template.
    /// - Parameters:
    ///   - messages: the conversation (`[{"role": …, "content": …}, …]`).
    ///   - addGenerationPrompt: end with the opening of an assistant turn.
    ///   - specialTokens: `bos_token`, `eos_token`, … as the tokenizer defines them.
    ///   - tools: tool definitions, or nil (passed as `None`, as transformers does).
    ///   - extra: custom keyword arguments (`enable_thinking`…), which override the rest.
    public static func context(
        messages: TemplateValue, addGenerationPrompt: Bool, specialTokens: [String: String] = [:], tools: TemplateValue? = nil,
        extra: [String: TemplateValue] = [:]
    ) -> [String: TemplateValue] {
        var context: [String: TemplateValue] = [
            "messages": messages, "add_generation_prompt": .bool(addGenerationPrompt), "tools": tools ?? .none, "documents": .none,
        ]
        for (key, value) in specialTokens { context[key] = .string(value) }
        for (key, value) in extra { context[key] = value }
        return context
    }
}

/// A calendar date and time for `strftime_now` (no clock is read by the engine).
public struct TemplateDate: Sendable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    /// 0 = Monday … 6 = Sunday (Python's `weekday()`).
    public var weekday: Int

    public init(year: Int = 2026, month: Int = 1, day: Int = 1, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        // Sakamoto's method; 0 = Sunday, converted to Python's Monday = 0.
        let offsets = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
        let y = month < 3 ? year - 1 : year
        let sunday = (y + y / 4 - y / 100 + y / 400 + offsets[max(0, min(11, month - 1))] + day) % 7
        weekday = (sunday + 6) % 7
    }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    static let dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    var dayOfYear: Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return lengths.prefix(max(0, month - 1)).reduce(0, +) + day
    }

    /// Python's `strftime` for the C-locale directives (`%Y %m %d %B %b %A %a %H %I %M %S %p %y %j %e %%`).
    func format(_ pattern: String) -> String {
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        var out = ""
        var iterator = pattern.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                out.append(character)
                continue
            }
            guard let directive = iterator.next() else {
                out += "%"
                break
            }
            switch directive {
            case "Y": out += String(year)
            case "y": out += pad(year % 100)
            case "m": out += pad(month)
            case "d": out += pad(day)
            case "e": out += (day < 10 ? " " : "") + String(day)
            case "B": out += Self.monthNames[month - 1]
            case "b", "h": out += String(Self.monthNames[month - 1].prefix(3))
            case "A": out += Self.dayNames[weekday]
            case "a": out += String(Self.dayNames[weekday].prefix(3))
            case "H": out += pad(hour)
            case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12)
            case "M": out += pad(minute)
            case "S": out += pad(second)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "j": out += pad(dayOfYear, 3)
            case "%": out += "%"
            default: out += "%" + String(directive)
            }
        }
        return out
    }
}
