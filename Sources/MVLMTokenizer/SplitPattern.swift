import MVLMCore

/// A regular expression that splits text into words before BPE, as a vocabulary's pre-tokenizer
/// declares it (llama.cpp's `llama-vocab.cpp` lists them per `tokenizer.ggml.pre`; Hugging Face's
/// `tokenizer.json` holds them as `Split` patterns).
///
/// This is a small backtracking matcher over Unicode scalars for the syntax those patterns use, not
/// a general regex engine: alternation, groups (`(…)`, `(?:…)`, `(?i:…)`), lookahead (`(?=…)`,
/// `(?!…)`), greedy, lazy and possessive quantifiers (`?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`), the
/// anchors `^`, `$` and `\b`, character classes with ranges and negation, `.`, and the classes
/// `\s` (White_Space), `\d` (Nd), `\w` (L, M, Nd, Pc), `\p{…}`/`\P{…}` for general categories
/// (`L`, `Lu`, `Ll`, `Lt`, `Lm`, `Lo`, `M`, `N`, `Nd`, `P`, `S`…). Scripts (`\p{Han}`), lookbehind,
/// backreferences and class intersection (`&&`) are refused with `.unsupported`.
///
/// Alternatives are tried left to right and the first that lets the whole pattern match wins
/// (Perl, ECMAScript and Oniguruma semantics, which the reference tokenizers use). Splitting is
/// `Split` with behaviour "Isolated": every match is a word and so is every run of text between
/// matches; an empty match only marks a boundary. A match never looks beyond the piece it splits
/// (`$` and a lookahead stop at the piece's end), as in llama.cpp, which runs each regex on the
/// pieces the previous one produced.
public struct SplitPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let source: String
    let root: Node

    /// Compiles `source`.
    /// - Throws: `MVLMError` (`.malformed` for a syntax error, `.unsupported` for a construct this
    ///   matcher does not implement), naming the pattern and the offset.
    public init(_ source: String) throws {
        self.source = source
        var parser = Parser(source)
        root = try parser.parse()
    }

    public static func == (a: SplitPattern, b: SplitPattern) -> Bool { a.source == b.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
    public var description: String { source }

    /// One node of a compiled pattern.
    indirect enum Node: Sendable {
        /// One scalar of the set.
        case scalar(ScalarSet)
        case sequence([Node])
        /// The first alternative that lets the rest match.
        case alternation([Node])
        case repetition(Node, minimum: Int, maximum: Int?, mode: RepetitionMode)
        case lookahead(Node, negated: Bool)
        /// `^`: the start of the piece.
        case start
        /// `$`: the end of the piece.
        case end
        /// `\b` (or `\B` when negated): between a `\w` scalar and a non-`\w` one.
        case wordBoundary(negated: Bool)
    }

    enum RepetitionMode: Sendable {
        /// As many as possible, giving back one at a time.
        case greedy
        /// As few as possible, taking one more at a time.
        case lazy
        /// As many as possible, never giving back (`*+`, `++`, `?+`).
        case possessive
    }

    /// A set of scalars, tested with the scalar's value, general category and White_Space property.
    indirect enum ScalarSet: Sendable {
        /// The scalars `lower...upper`.
        case range(UInt32, UInt32)
        case categories(UnicodeCategory.Mask)
        /// The White_Space property (`\s`).
        case whitespace
        case union([ScalarSet])
        case intersection([ScalarSet])
        case complement(ScalarSet)
        /// The set, also containing the other case of any ASCII letter it contains (`(?i:…)`).
        case asciiCaseFolded(ScalarSet)

        func contains(_ value: UInt32, _ category: UnicodeCategory, _ isWhitespace: Bool) -> Bool {
            switch self {
            case .range(let lower, let upper):
                return lower <= value && value <= upper
            case .categories(let mask):
                return mask & category.bit != 0
            case .whitespace:
                return isWhitespace
            case .union(let sets):
                for set in sets where set.contains(value, category, isWhitespace) { return true }
                return false
            case .intersection(let sets):
                for set in sets where !set.contains(value, category, isWhitespace) { return false }
                return true
            case .complement(let set):
                return !set.contains(value, category, isWhitespace)
            case .asciiCaseFolded(let set):
                if set.contains(value, category, isWhitespace) { return true }
                switch value {
                case 0x41...0x5A: return set.contains(value + 32, .lowercaseLetter, false)
                case 0x61...0x7A: return set.contains(value - 32, .uppercaseLetter, false)
                default: return false
                }
            }
        }
    }

    /// Text prepared for matching: each scalar's value, category and White_Space property.
    public struct Text: Sendable {
        let values: [UInt32]
        let categories: [UnicodeCategory]
        let whitespace: [Bool]

        public init(_ scalars: [Unicode.Scalar]) {
            values = scalars.map(\.value)
            categories = scalars.map(UnicodeCategory.init)
            whitespace = scalars.map { $0.properties.isWhitespace }
        }

        public var count: Int { values.count }
    }

    /// The words of `piece`, appended to `output` in order: the matches and the runs between them.
    public func split(_ text: Text, _ piece: Range<Int>, into output: inout [Range<Int>]) {
        let matcher = Matcher(text: text, lower: piece.lowerBound, upper: piece.upperBound)
        var pending = piece.lowerBound  // the start of text not yet emitted
        var position = piece.lowerBound
        while position < piece.upperBound {
            var end = -1
            let matched = matcher.match(root, at: position) { stop in
                end = stop
                return true
            }
            if matched && end == position {
                // An empty match marks a boundary; a non-empty match at the same place still wins
                // (ECMAScript's regex_iterator retries with match_not_null).
                if !matcher.match(root, at: position, then: { stop in
                    end = stop
                    return stop > position
                }) {
                    if pending < position { output.append(pending..<position) }
                    pending = position
                    position += 1
                    continue
                }
            }
            guard matched else {
                position += 1
                continue
            }
            if pending < position { output.append(pending..<position) }
            output.append(position..<end)
            pending = end
            position = end
        }
        if pending < piece.upperBound { output.append(pending..<piece.upperBound) }
    }

    /// Whether the whole of `text` matches (for tests of the matcher).
    func matchesWhole(_ text: Text) -> Bool {
        Matcher(text: text, lower: 0, upper: text.count).match(root, at: 0) { $0 == text.count }
    }
}

extension SplitPattern {
    /// Backtracking in continuation-passing style: `match(node, at:, then:)` calls `then` with every
    /// end position of `node` starting at the position, best first, until `then` accepts one.
    struct Matcher {
        let text: Text
        let lower: Int
        let upper: Int

        func contains(_ set: ScalarSet, at position: Int) -> Bool {
            position < upper
                && set.contains(text.values[position], text.categories[position], text.whitespace[position])
        }

        func isWordScalar(_ position: Int) -> Bool {
            guard position >= lower && position < upper else { return false }
            return SplitPattern.wordSet.contains(
                text.values[position], text.categories[position], text.whitespace[position])
        }

        func match(_ node: Node, at position: Int, then next: (Int) -> Bool) -> Bool {
            switch node {
            case .scalar(let set):
                return contains(set, at: position) && next(position + 1)
            case .sequence(let nodes):
                return matchSequence(nodes[...], at: position, then: next)
            case .alternation(let options):
                for option in options where match(option, at: position, then: next) { return true }
                return false
            case .repetition(let body, let minimum, let maximum, let mode):
                if case .scalar(let set) = body {
                    return matchRun(of: set, minimum: minimum, maximum: maximum, mode: mode, at: position, then: next)
                }
                if mode == .possessive {
                    var end = -1
                    guard matchRepetition(body, minimum, maximum, .greedy, count: 0, at: position, then: { stop in
                        end = stop
                        return true
                    }) else { return false }
                    return next(end)
                }
                return matchRepetition(body, minimum, maximum, mode, count: 0, at: position, then: next)
            case .lookahead(let body, let negated):
                let found = match(body, at: position) { _ in true }
                return found != negated && next(position)
            case .start:
                return position == lower && next(position)
            case .end:
                return position == upper && next(position)
            case .wordBoundary(let negated):
                let boundary = isWordScalar(position - 1) != isWordScalar(position)
                return boundary != negated && next(position)
            }
        }

        private func matchSequence(_ nodes: ArraySlice<Node>, at position: Int, then next: (Int) -> Bool) -> Bool {
            guard let first = nodes.first else { return next(position) }
            return match(first, at: position) { stop in matchSequence(nodes.dropFirst(), at: stop, then: next) }
        }

        /// A repetition of one scalar set, counted without recursion so long runs cost no stack.
        private func matchRun(
            of set: ScalarSet, minimum: Int, maximum: Int?, mode: RepetitionMode, at position: Int,
            then next: (Int) -> Bool
        ) -> Bool {
            let limit = maximum ?? Int.max
            var count = 0
            while count < limit && contains(set, at: position + count) { count += 1 }
            guard count >= minimum else { return false }
            switch mode {
            case .greedy:
                for taken in stride(from: count, through: minimum, by: -1) where next(position + taken) { return true }
                return false
            case .lazy:
                for taken in minimum...count where next(position + taken) { return true }
                return false
            case .possessive:
                return next(position + count)
            }
        }

        private func matchRepetition(
            _ body: Node, _ minimum: Int, _ maximum: Int?, _ mode: RepetitionMode, count: Int, at position: Int,
            then next: (Int) -> Bool
        ) -> Bool {
            let mayStop = count >= minimum
            // Each iteration of a repetition that is not a single class costs a few stack frames,
            // so such a repetition stops after `iterationLimit` iterations (a word then ends there).
            let mayContinue = (maximum.map { count < $0 } ?? true) && count < SplitPattern.iterationLimit
            // An iteration that matches nothing ends the repetition once the minimum is reached
            // (otherwise `(a*)*` would loop forever).
            func iterate() -> Bool {
                mayContinue
                    && match(body, at: position) { stop in
                        (stop != position || count < minimum)
                            && matchRepetition(body, minimum, maximum, mode, count: count + 1, at: stop, then: next)
                    }
            }
            if mode == .lazy {
                return (mayStop && next(position)) || iterate()
            }
            return iterate() || (mayStop && next(position))
        }
    }

    /// The most iterations a repetition of a group (not a single class) makes in one match: 1,000
    /// (exaone-moe's `(?:\p{L}\p{M}*…)+` iterates once per letter, superbpe's `(\d{3})+` once per
    /// three digits). Longer runs are split there instead of overflowing the stack.
    static let iterationLimit = 1_000

    /// `\w`: letters, marks, decimal numbers and connector punctuation (Oniguruma's Unicode `\w`).
    static let wordSet = ScalarSet.categories(
        UnicodeCategory.mask(named: "L")! | UnicodeCategory.mask(named: "M")! | UnicodeCategory.mask(named: "Nd")!
            | UnicodeCategory.mask(named: "Pc")!)
}
