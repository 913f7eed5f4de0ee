import Foundation
import MVLMCore
import MVLMTestSupport
@testable import MVLMTokenizer
import Testing

/// `SplitPattern` against Python's `regex` module (Tests/Fixtures/gen_split_patterns.py): every
/// pattern of llama.cpp's pre-tokenizer table and a few more, on 410 texts.
@Suite("SplitPattern splits as Python's regex module does")
struct SplitPatternTests {
    struct Fixture {
        var patterns: [String]
        var texts: [String]
        var splits: [[[Int]]]
    }

    static func fixture() throws -> Fixture {
        let url = Fixtures.directory.appendingPathComponent("split_patterns/expected.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return Fixture(
            patterns: try #require(object["patterns"] as? [String]), texts: try #require(object["texts"] as? [String]),
            splits: try #require(object["splits"] as? [[[Int]]]))
    }

    @Test func everyPatternSplitsEveryTextAsTheReference() throws {
        let fixture = try Self.fixture()
        try #require(fixture.patterns.count >= 40 && fixture.texts.count >= 400)
        let texts = fixture.texts.map { Array($0.unicodeScalars) }
        let prepared = texts.map(SplitPattern.Text.init)
        var mismatches: [String] = []
        var words = 0
        for (index, source) in fixture.patterns.enumerated() {
            let pattern = try SplitPattern(source)
            for (textIndex, text) in prepared.enumerated() {
                var pieces: [Range<Int>] = []
                if text.count > 0 { pattern.split(text, 0..<text.count, into: &pieces) }
                let lengths = pieces.map(\.count)
                words += lengths.count
                if lengths != fixture.splits[index][textIndex] && mismatches.count < 10 {
                    mismatches.append(
                        "pattern \(index) \(source.prefix(50).debugDescription) on \(fixture.texts[textIndex].prefix(60).debugDescription): expected \(fixture.splits[index][textIndex].prefix(20)), got \(lengths.prefix(20))")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(words > 100_000)
    }

    /// Every regex in llama.cpp's table that runs on `SplitPattern` is one of the fixture's patterns,
    /// and every name in the table loads.
    @Test func theLlamaCppTableIsCovered() throws {
        let fixture = try Self.fixture()
        var covered = 0
        for name in LlamaCppVocabularyType.knownNames {
            let type = try #require(LlamaCppVocabularyType(pre: name), "\(name)")
            for step in type.preTokenizer.steps {
                if case .regex(let pattern) = step {
                    #expect(fixture.patterns.contains(pattern.source), "\(name): \(pattern.source)")
                    covered += 1
                }
            }
        }
        #expect(covered > 50)
        #expect(LlamaCppVocabularyType(pre: "kimi-k2") == nil)
        #expect(LlamaCppVocabularyType(pre: "afmoe") == nil)
        #expect(LlamaCppVocabularyType(pre: "no-such-type") == nil)
    }

    /// The hand-written GPT-2 and Llama 3 splitters and the regex matcher agree on the corpus.
    @Test func handWrittenSplittersAgreeWithTheMatcher() throws {
        let corpus = TokenizerFixtures.corpus
        try #require(corpus.count > 2000)
        let pairs: [(PreTokenizer.Step, String)] = [
            (.gpt2, #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#),
            (.llama3, #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#),
        ]
        for (step, source) in pairs {
            let handWritten = PreTokenizer(steps: [step])
            let regex = PreTokenizer(steps: [.regex(try SplitPattern(source))])
            var differing: [String] = []
            for text in corpus {
                let scalars = Array(text.unicodeScalars)
                if handWritten.split(scalars) != regex.split(scalars) { differing.append(text) }
            }
            #expect(differing.isEmpty, "\(step): \(differing.count) entries differ, e.g. \(differing.prefix(3))")
        }
    }

    @Test func matcherBasics() throws {
        func whole(_ pattern: String, _ text: String) throws -> Bool {
            try SplitPattern(pattern).matchesWhole(SplitPattern.Text(Array(text.unicodeScalars)))
        }
        #expect(try whole(#"a{2,3}"#, "aaa"))
        #expect(try !whole(#"a{2,3}"#, "aaaa"))
        #expect(try whole(#"(?i:ab)c"#, "ABc"))
        #expect(try !whole(#"(?i:ab)c"#, "ABC"))
        #expect(try whole(#"[^\p{L}]+"#, "12 !"))
        #expect(try whole(#"\p{Lu}\p{Ll}+"#, "Éte"))
        #expect(try whole(#"a*+a"#, "aaa") == false)  // possessive never gives back
        #expect(try whole(#"a*a"#, "aaa"))
        #expect(try whole(#"x{,2}"#, "x{,2}"))  // not a quantifier: literal braces
        #expect(try whole(#"[a\-z]+"#, "-az"))
        #expect(try whole(#"(a|ab)(c|bcd)"#, "abcd"))
        #expect(try whole(#".+"#, "a\nb") == false)
        // Long runs use no recursion per character.
        #expect(try whole(#"\p{L}+"#, String(repeating: "é", count: 200_000)))
    }

    /// A repetition of a group stops after `iterationLimit` iterations instead of overflowing the
    /// stack: exaone-moe's letter pattern on a 200,000-letter word makes words of 1,000 letters.
    @Test func longRepetitionsOfGroupsAreCapped() throws {
        let type = try #require(LlamaCppVocabularyType(pre: "exaone-moe"))
        let word = Array(String(repeating: "a", count: 200_000).unicodeScalars)
        let pieces = type.preTokenizer.split(word)
        #expect(pieces.count == 200 && pieces.allSatisfy { $0.count == SplitPattern.iterationLimit })
        let short = Array("abc def".unicodeScalars)
        #expect(type.preTokenizer.split(short).map(\.count) == [7])  // `(?: \p{L}…)*` takes the space
    }

    @Test(arguments: [
        (#"\p{Han}+"#, MVLMError.Code.unsupported, "Han"),
        (#"(?<=a)b"#, .unsupported, "lookbehind"),
        (#"[a&&b]"#, .unsupported, "&&"),
        (#"[a[b]]"#, .unsupported, "nested"),
        (#"\k<x>"#, .unsupported, "\\k"),
        (#"(ab"#, .malformed, "')'"),
        (#"ab)"#, .malformed, "')'"),
        (#"*a"#, .malformed, "repeat"),
        (#"a{3,2}"#, .malformed, "max < min"),
        (#"[z-a]"#, .malformed, "out of order"),
        (#"[abc"#, .malformed, "']'"),
        (#"abc\"#, .malformed, "ends"),
    ])
    func badPatternsAreRefused(pattern: String, code: MVLMError.Code, keyword: String) {
        let error = #expect(throws: MVLMError.self) { try SplitPattern(pattern) }
        #expect(error?.code == code, "\(pattern)")
        #expect(error?.description.contains(keyword) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains(pattern.debugDescription) == true)
    }
}
