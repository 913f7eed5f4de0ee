import Foundation
import MVLMTokenizer
import Testing

/// The pre-tokenizer's character classes against the classes tokenizers' regex engine gives every
/// Unicode scalar (Tests/Fixtures/tokenizer/unicode_classes.txt, probed by gen_tokenizer.py).
@Suite("Unicode classes match tokenizers' regex engine")
struct UnicodeClassTests {
    @Test func everyScalar() throws {
        let text = try String(contentsOf: TokenizerFixtures.url("unicode_classes.txt"), encoding: .utf8)
        var runs: [(start: UInt32, letter: Character)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            let start = try #require(UInt32(fields[0], radix: 16))
            runs.append((start, try #require(fields[1].first)))
        }
        try #require(runs.count > 1000 && runs.first?.start == 0)
        var compared = 0
        var mismatches: [String] = []
        var mismatchCount = 0
        var ages: [String: Int] = [:]
        for (index, run) in runs.enumerated() {
            let end = index + 1 < runs.count ? runs[index + 1].start : 0x110000
            for value in run.start..<end {
                guard let scalar = Unicode.Scalar(value) else { continue }
                compared += 1
                let ours: Character
                switch PreTokenizer.CharacterClass(scalar) {
                case .letter: ours = "L"
                case .number: ours = "N"
                case .whitespace: ours = "W"
                case .other: ours = "O"
                }
                if ours != run.letter {
                    if let age = scalar.properties.age { ages["\(age.major).\(age.minor) \(ours)\(run.letter)", default: 0] += 1 } else { ages["none \(ours)\(run.letter)", default: 0] += 1 }
                    mismatchCount += 1
                    if mismatches.count < 20 {
                        mismatches.append("U+\(String(value, radix: 16, uppercase: true)) ours \(ours) reference \(run.letter)")
                    }
                }
            }
        }
        print("unicode classes: \(compared) scalars, \(mismatchCount) differ")
        #expect(compared == 0x110000 - 0x800)
        #expect(mismatchCount == 0, "\(mismatchCount) scalars differ (by Unicode age, ours/reference: \(ages)): \(mismatches)")
    }
}
