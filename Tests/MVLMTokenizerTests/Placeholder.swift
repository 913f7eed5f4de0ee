import Testing
import MVLMTokenizer
@Test func placeholder() { #expect(Bool(true)) }
