import MVLMCore

/// Runs a parsed template: statements, scopes, output buffers and the bounds of `ChatTemplate.Limits`.
///
/// Scoping follows jinja2: each `for` iteration and each macro call opens a scope whose `set`s do
/// not leak out (hence `namespace()`); `if` opens none.
struct TemplateRenderer {
    let name: String
    let globals: [String: TemplateValue]
    let now: TemplateDate
    let limits: ChatTemplate.Limits
    var scopes: [[String: TemplateValue]] = [[:]]
    var buffers: [String] = [""]
    var bufferBytes: [Int] = [0]
    var steps = 0
    var callDepth = 0
    /// The line of the statement being run, for error messages.
    var line = 1

    enum Flow { case normal, breakLoop, continueLoop }

    init(name: String, globals: [String: TemplateValue], now: TemplateDate, limits: ChatTemplate.Limits) {
        self.name = name
        self.globals = globals
        self.now = now
        self.limits = limits
    }

    func error(_ message: String, code: MVLMError.Code = .malformed) -> MVLMError {
        MVLMError(code, message, file: name, subject: "line \(line)")
    }

    mutating func render(_ nodes: [TemplateNode]) throws -> String {
        _ = try execute(nodes)
        return buffers[0]
    }

    mutating func step() throws {
        steps += 1
        if steps > limits.maximumSteps {
            throw error("more than \(limits.maximumSteps) loop iterations and calls; the template does not terminate in reasonable time", code: .outOfBounds)
        }
    }

    mutating func write(_ text: String) throws {
        bufferBytes[bufferBytes.count - 1] += text.utf8.count
        if bufferBytes[bufferBytes.count - 1] > limits.maximumOutputBytes {
            throw error("the output exceeds \(limits.maximumOutputBytes) bytes", code: .outOfBounds)
        }
        buffers[buffers.count - 1] += text
    }

    /// Runs `nodes` with output going to a fresh buffer, and returns that buffer.
    mutating func capture(_ nodes: [TemplateNode]) throws -> String {
        buffers.append("")
        bufferBytes.append(0)
        defer {
            buffers.removeLast()
            bufferBytes.removeLast()
        }
        _ = try execute(nodes)
        return buffers[buffers.count - 1]
    }

    func checkSize(_ text: String) throws -> String {
        if text.utf8.count > limits.maximumOutputBytes {
            throw error("a string of \(text.utf8.count) bytes exceeds the limit of \(limits.maximumOutputBytes)", code: .outOfBounds)
        }
        return text
    }

    // MARK: variables

    func lookup(_ variable: String) -> TemplateValue {
        for scope in scopes.reversed() {
            if let value = scope[variable] { return value }
        }
        if let value = globals[variable] { return value }
        if Self.builtinGlobals.contains(variable) {
            return .callable(TemplateCallable(name: variable, kind: .global(variable)))
        }
        return .undefined(variable)
    }

    static let builtinGlobals: Set<String> = ["range", "namespace", "dict", "raise_exception", "strftime_now", "joiner", "cycler", "lipsum"]

    mutating func assign(_ variable: String, _ value: TemplateValue) {
        scopes[scopes.count - 1][variable] = value
    }

    mutating func assign(_ target: TemplateTarget, _ value: TemplateValue) throws {
        switch target {
        case .names(let names) where names.count == 1:
            assign(names[0], value)
        case .names(let names):
            let items = try iterate(value)
            guard items.count == names.count else {
                throw error("cannot unpack \(items.count) values into \(names.count) names (\(names.joined(separator: ", ")))")
            }
            for (variable, item) in zip(names, items) { assign(variable, item) }
        case .attribute(let object, let attribute):
            guard case .namespace(let namespace) = lookup(object) else {
                throw error("'set \(object).\(attribute)': '\(object)' is not a namespace() (only namespace attributes can be assigned)")
            }
            namespace.attributes[attribute] = value
        }
    }

    // MARK: statements

    mutating func execute(_ nodes: [TemplateNode]) throws -> Flow {
        for node in nodes {
            switch node {
            case .text(let text):
                try write(text)
            case .output(let expression, let at):
                line = at
                try write(try evaluate(expression).pythonString)
            case .conditional(let branches, let otherwise, let at):
                line = at
                var chosen = otherwise
                for (condition, body) in branches where try evaluate(condition).isTruthy {
                    chosen = body
                    break
                }
                let flow = try execute(chosen)
                if flow != .normal { return flow }
            case .loop(let loop):
                try run(loop)
            case .set(let target, let expression, let at):
                line = at
                try assign(target, try evaluate(expression))
            case .setBlock(let target, let filters, let body, let at):
                line = at
                var value = TemplateValue.string(try capture(body))
                for (filterName, arguments) in filters { value = try applyFilter(filterName, to: value, arguments) }
                try assign(target, value)
            case .macro(let macro):
                assign(macro.name, .callable(TemplateCallable(name: macro.name, kind: .macro(macro))))
            case .callBlock(let call, var caller, let at):
                line = at
                guard case .call(let callee, let arguments) = call else { throw error("'call' needs a macro call") }
                caller.closure = flattenedScope()
                let function = try evaluate(callee)
                let (positional, named) = try evaluate(arguments)
                let keyword = named + [("caller", TemplateValue.callable(TemplateCallable(name: "caller", kind: .caller(caller))))]
                try write(try self.call(function, positional: positional, keyword: keyword).pythonString)
            case .filterBlock(let filters, let body, let at):
                line = at
                var value = TemplateValue.string(try capture(body))
                for (filterName, arguments) in filters { value = try applyFilter(filterName, to: value, arguments) }
                try write(value.pythonString)
            case .breakLoop(let at):
                line = at
                return .breakLoop
            case .continueLoop(let at):
                line = at
                return .continueLoop
            case .generation(let body):
                let flow = try execute(body)
                if flow != .normal { return flow }
            }
        }
        return .normal
    }

    /// All visible variables, innermost last (what a `call` block's body sees).
    func flattenedScope() -> [String: TemplateValue] {
        var merged: [String: TemplateValue] = [:]
        for scope in scopes {
            for (key, value) in scope { merged[key] = value }
        }
        return merged
    }

    mutating func run(_ loop: TemplateLoop) throws {
        line = loop.line
        let source = try evaluate(loop.iterable)
        if case .undefined = source {
            // jinja2's default Undefined iterates as empty.
        }
        var items = try iterate(source)
        if let condition = loop.condition {
            var kept: [TemplateValue] = []
            for item in items {
                try step()
                scopes.append([:])
                defer { scopes.removeLast() }
                try bind(loop.targets, to: item)
                if try evaluate(condition).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(loop.otherwise)
            return
        }
        let count = items.count
        // The loop object: keys hashed once, values replaced by position on each iteration.
        let base = TemplateDict(Self.loopKeys.map { ($0, TemplateValue.none) })
        for (position, item) in items.enumerated() {
            try step()
            scopes.append([:])
            defer { scopes.removeLast() }
            try bind(loop.targets, to: item)
            var info = base
            let values: [TemplateValue] = [
                .int(position + 1), .int(position), .int(count - position), .int(count - position - 1), .bool(position == 0),
                .bool(position == count - 1), .int(count), .int(1), .int(0),
                position > 0 ? items[position - 1] : .undefined("loop.previtem"),
                position + 1 < count ? items[position + 1] : .undefined("loop.nextitem"),
                .callable(TemplateCallable(name: "loop.cycle", kind: .method(receiver: .int(position), name: "__cycle__"))),
            ]
            for (slot, value) in values.enumerated() { info.setValue(value, atEntry: slot) }
            assign("loop", .dict(info))
            let flow = try execute(loop.body)
            line = loop.line
            if flow == .breakLoop { break }
        }
    }

    static let loopKeys = ["index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0", "previtem", "nextitem", "cycle"]

    mutating func bind(_ targets: [String], to item: TemplateValue) throws {
        if targets.count == 1 {
            assign(targets[0], item)
            return
        }
        let parts = try iterate(item)
        guard parts.count == targets.count else {
            throw error("cannot unpack \(parts.count) values into the loop variables \(targets.joined(separator: ", "))")
        }
        for (target, part) in zip(targets, parts) { assign(target, part) }
    }

    /// The elements a `for` visits: list items, dict keys, string characters; undefined is empty.
    func iterate(_ value: TemplateValue) throws -> [TemplateValue] {
        switch value {
        case .list(let items), .tuple(let items): return items
        case .dict(let dict): return dict.keys.map(\.value)
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case .namespace(let namespace): return namespace.attributes.keys.map(\.value)
        default: throw error("'\(value.typeName)' object is not iterable")
        }
    }

    // MARK: calls

    mutating func evaluate(_ arguments: TemplateArguments) throws -> ([TemplateValue], [(String, TemplateValue)]) {
        let positional = try arguments.positional.map { try evaluate($0) }
        let keyword = try arguments.keyword.map { ($0.0, try evaluate($0.1)) }
        return (positional, keyword)
    }

    mutating func call(_ function: TemplateValue, positional: [TemplateValue], keyword: [(String, TemplateValue)]) throws -> TemplateValue {
        try step()
        guard case .callable(let callable) = function else {
            if case .undefined(let missing) = function { throw error("'\(missing)' is undefined and cannot be called") }
            throw error("'\(function.typeName)' object is not callable")
        }
        switch callable.kind {
        case .macro(let macro), .caller(let macro):
            return try callMacro(macro, positional: positional, keyword: keyword)
        case .global(let function):
            return try callGlobal(function, positional: positional, keyword: keyword)
        case .method(let receiver, let method):
            return try callMethod(method, on: receiver, positional: positional, keyword: keyword)
        }
    }

    mutating func callMacro(_ macro: TemplateMacro, positional: [TemplateValue], keyword: [(String, TemplateValue)]) throws -> TemplateValue {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maximumCallDepth {
            throw error("macro calls nested deeper than \(limits.maximumCallDepth) (runaway recursion in '\(macro.name)')", code: .outOfBounds)
        }
        var scope: [String: TemplateValue] = macro.closure ?? [:]
        var extra: [TemplateValue] = []
        for (position, value) in positional.enumerated() {
            if position < macro.parameters.count { scope[macro.parameters[position]] = value } else { extra.append(value) }
        }
        var keywords = TemplateDict()
        for (key, value) in keyword {
            if macro.parameters.contains(key) || key == "caller" { scope[key] = value } else { keywords[key] = value }
        }
        let savedScopes = scopes
        // A macro sees the template's top-level variables and its own arguments.
        scopes = [scopes[0], scope]
        defer { scopes = savedScopes }
        let savedLine = line
        defer { line = savedLine }
        for parameter in macro.parameters where scopes[1][parameter] == nil {
            if let fallback = macro.defaults[parameter] {
                scopes[1][parameter] = try evaluate(fallback)
            } else {
                scopes[1][parameter] = .undefined(parameter)
            }
        }
        scopes[1]["varargs"] = .tuple(extra)
        scopes[1]["kwargs"] = .dict(keywords)
        return .string(try capture(macro.body))
    }

    mutating func callGlobal(_ function: String, positional: [TemplateValue], keyword: [(String, TemplateValue)]) throws -> TemplateValue {
        switch function {
        case "raise_exception":
            let message = positional.first?.pythonString ?? ""
            throw MVLMError(.invalidArgument, "raise_exception: \(message)", file: name, subject: "line \(line)")
        case "strftime_now":
            guard let pattern = positional.first, case .string(let format) = pattern else {
                throw error("strftime_now() needs a format string")
            }
            return .string(now.format(format))
        case "namespace", "dict":
            var attributes = TemplateDict()
            if let first = positional.first {
                guard case .dict(let initial) = first else { throw error("\(function)() takes keyword arguments or a dict") }
                attributes = initial
            }
            for (key, value) in keyword { attributes[key] = value }
            return function == "dict" ? .dict(attributes) : .namespace(TemplateNamespace(attributes))
        case "range":
            let numbers = try positional.map { value -> Int in
                guard let number = value.integerValue else { throw error("range() needs integers, got \(value.typeName)") }
                return number
            }
            var (start, stop, stride) = (0, 0, 1)
            switch numbers.count {
            case 1: stop = numbers[0]
            case 2: (start, stop) = (numbers[0], numbers[1])
            case 3: (start, stop, stride) = (numbers[0], numbers[1], numbers[2])
            default: throw error("range() takes 1 to 3 arguments")
            }
            guard stride != 0 else { throw error("range() step must not be zero") }
            let count = stride > 0 ? max(0, (stop - start + stride - 1) / stride) : max(0, (start - stop - stride - 1) / -stride)
            guard count <= limits.maximumListLength else {
                throw error("range() of \(count) items exceeds the limit of \(limits.maximumListLength)", code: .outOfBounds)
            }
            return .list((0..<count).map { .int(start + $0 * stride) })
        default:
            throw error("'\(function)' is not supported")
        }
    }
}

extension TemplateValue {
    /// The value as an integer when it is an int or bool (Python's bool is an int).
    var integerValue: Int? {
        switch self {
        case .int(let value): value
        case .bool(let value): value ? 1 : 0
        default: nil
        }
    }

    /// The value as a float when it is a number.
    var numberValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .bool(let value): value ? 1 : 0
        case .double(let value): value
        default: nil
        }
    }
}
