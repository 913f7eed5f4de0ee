import Foundation
import MVLMCore
import MVLMTemplate
import Testing

/// Hostile templates fail quickly with an error instead of hanging, exhausting memory or
/// reaching anything outside the data they are given.
@Suite("template sandbox")
struct SandboxTests {
    static func failure(_ source: String, _ context: [String: TemplateValue] = [:]) -> MVLMError? {
        do {
            _ = try ChatTemplate(source, name: "hostile.jinja").render(context)
            return nil
        } catch let error as MVLMError {
            return error
        } catch {
            return nil
        }
    }

    @Test("runaway loops, recursion and growth stop at the documented bounds", arguments: [
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        "{{ 'a' * 1000000000 }}",
        "{{ [1] * 1000000000 }}",
        "{% set ns = namespace(s='xy') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'abcdefghijklmnopqrstuvwxyz' * 1000 }}{% endfor %}",
        "{{ range(1000000000) | length }}",
    ])
    func bounded(_ source: String) throws {
        let start = Date()
        let error = try #require(Self.failure(source))
        #expect(error.code == .outOfBounds, "\(error)")
        #expect(Date().timeIntervalSince(start) < 20)
    }

    @Test("deeply nested expressions are refused, not a stack overflow")
    func nesting() throws {
        let deep = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        let error = try #require(Self.failure(deep))
        #expect(error.description.contains("nesting deeper than"))
        let blocks = String(repeating: "{% if true %}", count: 5000)
        #expect(Self.failure(blocks) != nil)
    }

    @Test("passed-in data cannot be changed and Python internals are not reachable")
    func immutable() throws {
        let messages = TemplateValue.list([.dict(TemplateDict([("role", .string("user"))]))])
        #expect(Self.failure("{{ messages.append(1) }}", ["messages": messages]) != nil)
        #expect(Self.failure("{{ messages[0].update({'role': 'x'}) }}", ["messages": messages]) != nil)
        #expect(Self.failure("{{ messages[0].pop('role') }}", ["messages": messages]) != nil)
        // Dunder attributes are simply undefined (jinja2's sandbox answers the same way).
        #expect(try ChatTemplate("[{{ ''.__class__ }}{{ messages.__len__ }}]").render(["messages": messages]) == "[]")
        #expect(Self.failure("{{ ''.__class__.__mro__ }}") != nil)
        #expect(Self.failure("{% set x.y = 1 %}") != nil)
    }
}
