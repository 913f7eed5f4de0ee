import Foundation
import MVLMCore
import MVLMTemplate
import MVLMTestSupport
import Testing

/// One construct per template (whitespace control, loops, macros, filters, tests, methods,
/// tojson, printing of Python values), against transformers' jinja2 environment
/// (Tests/Fixtures/gen_chat_templates.py writes templates/features.json).
@Suite("template features against jinja2")
struct FeatureTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var template: String
        var context: [String: TemplateValue]
        var output: String?
        var error: String?
        var testDescription: String { name }
    }

    static let document: (date: TemplateDate, cases: [Case]) = {
        let bytes = [UInt8](try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("templates/features.json"))))
        guard case .dict(let root) = try! TemplateValue(json: bytes, context: "features.json"),
            case .list(let date)? = root["date"], case .list(let items)? = root["cases"]
        else { fatalError("templates/features.json is not what gen_chat_templates.py writes") }
        let numbers = date.map { value -> Int in
            if case .int(let number) = value { return number }
            return 0
        }
        let cases = items.map { item -> Case in
            guard case .dict(let entry) = item, case .string(let name)? = entry["name"], case .string(let template)? = entry["template"],
                case .dict(let context)? = entry["context"]
            else { fatalError("a malformed case in features.json") }
            var variables: [String: TemplateValue] = [:]
            for (key, value) in context.entries { variables[key.value.pythonString] = value }
            var output: String?, error: String?
            if case .string(let text)? = entry["output"] { output = text }
            if case .string(let text)? = entry["error"] { error = text }
            return Case(name: name, template: template, context: variables, output: output, error: error)
        }
        return (TemplateDate(year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4], second: numbers[5]), cases)
    }()

    @Test("each feature template renders as jinja2 renders it, or fails where jinja2 fails", arguments: document.cases)
    func feature(_ item: Case) throws {
        let template = try ChatTemplate(item.template, name: item.name)
        if let output = item.output {
            #expect(try template.render(item.context, now: Self.document.date) == output)
        } else {
            #expect(throws: MVLMError.self, "jinja2 raised \(item.error ?? "")") { try template.render(item.context, now: Self.document.date) }
        }
    }

    @Test("raise_exception's message reaches the error, with the template name and line")
    func raiseException() throws {
        let template = try ChatTemplate("a\n{% if true %}{{ raise_exception('Only user and assistant roles') }}{% endif %}", name: "t.jinja")
        let error = try #require(throws: MVLMError.self) { try template.render([:]) }
        #expect(error.description == "t.jinja: line 2: raise_exception: Only user and assistant roles")
    }

    @Test("syntax errors name the template, the line and the construct")
    func syntaxErrors() {
        let cases: [(String, String)] = [
            ("{% if x %}\nno end", "t: line 1: '{% if %}' opened on line 1 is never closed (expected 'elif' or 'else' or 'endif')"),
            ("ok\n{{ x | nosuchfilter }}", "t: line 2: no filter named 'nosuchfilter'"),
            ("{% for x in y %}{% endif %}", "t: line 1: unexpected '{% endif %}' (expected 'else' or 'endfor')"),
            ("{{ 1 + }}", "t: line 1: unexpected '}}' where an expression should be"),
            ("{% include 'x' %}", "t: line 1: statement 'include' is not supported (if, for, set, macro, call, filter, break, continue, raw, generation)"),
            ("\n\n{{ 'open }}", "t: line 3: the string opened here is never closed"),
        ]
        for (source, message) in cases {
            #expect(throws: MVLMError.self) {
                do { _ = try ChatTemplate(source, name: "t").render([:]) } catch let error as MVLMError {
                    #expect(error.description == message)
                    throw error
                }
            }
        }
    }
}
