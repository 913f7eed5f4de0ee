/// An expression of the template language.
indirect enum TemplateExpression: Sendable {
    case literal(TemplateValue)
    case name(String)
    case list([TemplateExpression])
    case tuple([TemplateExpression])
    case dict([(TemplateExpression, TemplateExpression)])
    case attribute(TemplateExpression, String)
    case item(TemplateExpression, TemplateExpression)
    case slice(TemplateExpression, TemplateExpression?, TemplateExpression?, TemplateExpression?)
    case call(TemplateExpression, TemplateArguments)
    case filter(TemplateExpression, String, TemplateArguments)
    case test(TemplateExpression, String, TemplateArguments, negated: Bool)
    case negate(TemplateExpression)
    case plus(TemplateExpression)
    case not(TemplateExpression)
    case and(TemplateExpression, TemplateExpression)
    case or(TemplateExpression, TemplateExpression)
    case binary(String, TemplateExpression, TemplateExpression)
    /// `a < b <= c`: each operator with its right operand.
    case compare(TemplateExpression, [(String, TemplateExpression)])
    case conditional(condition: TemplateExpression, then: TemplateExpression, otherwise: TemplateExpression?)
}

/// Positional and keyword arguments of a call, filter or test.
struct TemplateArguments: Sendable {
    var positional: [TemplateExpression] = []
    var keyword: [(String, TemplateExpression)] = []
}

/// The target of `set` and `for`: names, or an attribute of a namespace.
enum TemplateTarget: Sendable {
    case names([String])
    case attribute(String, String)
}

/// A statement of the template language (text, output, and the block tags).
indirect enum TemplateNode: Sendable {
    case text(String)
    case output(TemplateExpression, line: Int)
    case conditional(branches: [(TemplateExpression, [TemplateNode])], otherwise: [TemplateNode], line: Int)
    case loop(TemplateLoop)
    case set(TemplateTarget, TemplateExpression, line: Int)
    case setBlock(TemplateTarget, filters: [(String, TemplateArguments)], body: [TemplateNode], line: Int)
    case macro(TemplateMacro)
    case callBlock(TemplateExpression, caller: TemplateMacro, line: Int)
    case filterBlock([(String, TemplateArguments)], body: [TemplateNode], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    /// transformers' `{% generation %}` block (its assistant-mask extension): renders its body.
    case generation([TemplateNode])
}

/// A `for` statement.
struct TemplateLoop: Sendable {
    var targets: [String]
    var iterable: TemplateExpression
    var condition: TemplateExpression?
    var body: [TemplateNode]
    var otherwise: [TemplateNode]
    var line: Int
}

/// A macro (or a `call` block's body, which becomes `caller`).
public struct TemplateMacro: Sendable {
    var name: String
    var parameters: [String]
    var defaults: [String: TemplateExpression]
    var body: [TemplateNode]
    var line: Int
    /// The variables a `call` block's caller sees (its defining scope), set when it is called.
    var closure: [String: TemplateValue]? = nil
}
