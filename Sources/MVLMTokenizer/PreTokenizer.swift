/// The splitting of text into words before byte-level BPE, implemented by hand over Unicode
/// scalars (no regex engine): the behaviour of llama.cpp's `unicode_regex_split` custom splitters
/// and of the regexes Hugging Face tokenizers run.
///
/// Steps apply in order; each splits every piece the previous step produced and never merges
/// across piece boundaries (a regex's lookahead stops at the end of the piece).
public struct PreTokenizer: Sendable, Hashable {
    public enum Step: Sendable, Hashable {
        /// `\p{N}` isolated: each number character alone (`individually`), or runs of them.
        case isolateNumbers(individually: Bool)
        /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
        case gpt2
        /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
        /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
        case llama3
        /// Any other regex, run by `SplitPattern` (matches and the runs between them are words).
        case regex(SplitPattern)
    }

    public var steps: [Step]
    /// Prepend a space when the text does not start with one (ByteLevel `add_prefix_space`).
    public var addPrefixSpace: Bool

    public init(steps: [Step], addPrefixSpace: Bool = false) {
        self.steps = steps
        self.addPrefixSpace = addPrefixSpace
    }

    /// The pre-tokenizer llama.cpp uses for a `tokenizer.ggml.pre` value, or nil if unknown
    /// (`LlamaCppVocabularyType` has the whole table).
    public static func llamaCpp(pre: String) -> PreTokenizer? {
        LlamaCppVocabularyType(pre: pre)?.preTokenizer
    }

    /// The words of `scalars`, as ranges of indices into it.
    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var pieces = scalars.isEmpty ? [] : [0..<scalars.count]
        let classes = scalars.map(CharacterClass.init)
        var text: SplitPattern.Text?
        for step in steps {
            var next: [Range<Int>] = []
            next.reserveCapacity(pieces.count * 2)
            for piece in pieces {
                switch step {
                case .isolateNumbers(let individually):
                    Self.splitNumbers(classes, piece, individually: individually, into: &next)
                case .gpt2:
                    Self.splitGPT2(scalars, classes, piece, into: &next)
                case .llama3:
                    Self.splitLlama3(scalars, classes, piece, into: &next)
                case .regex(let pattern):
                    if text == nil { text = SplitPattern.Text(scalars) }
                    pattern.split(text!, piece, into: &next)
                }
            }
            pieces = next
        }
        return pieces
    }

    /// The Unicode version whose character classes the splitters use: that of the regex engine in
    /// Hugging Face tokenizers (Oniguruma), checked on every scalar by UnicodeClassTests. The Swift
    /// runtime knows newer scalars (Unicode 17 added ~4,700 letters and numbers); a vocabulary was
    /// trained with them unassigned.
    public static let unicodeVersion = (major: 16, minor: 0)

    /// The Unicode classes the regexes test: `\p{L}` (general category L*), `\p{N}` (Nd, Nl, No),
    /// `\s` (the White_Space property), and everything else (including unassigned code points).
    public enum CharacterClass: UInt8, Sendable {
        case letter, number, whitespace, other

        /// The class of `scalar`, from the Swift runtime's Unicode tables, limited to the scalars
        /// assigned by `PreTokenizer.unicodeVersion`: later ones are unassigned to the reference
        /// regex engines, so they count as other.
        public init(_ scalar: Unicode.Scalar) {
            guard let age = scalar.properties.age,
                age.major < PreTokenizer.unicodeVersion.major
                    || (age.major == PreTokenizer.unicodeVersion.major && age.minor <= PreTokenizer.unicodeVersion.minor)
            else {
                self = .other
                return
            }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                self = .letter
            case .decimalNumber, .letterNumber, .otherNumber:
                self = .number
            default:
                self = scalar.properties.isWhitespace ? .whitespace : .other
            }
        }
    }

    private static func splitNumbers(
        _ classes: [CharacterClass], _ piece: Range<Int>, individually: Bool, into output: inout [Range<Int>]
    ) {
        var start = piece.lowerBound
        var position = piece.lowerBound
        while position < piece.upperBound {
            guard classes[position] == .number else {
                position += 1
                continue
            }
            if start < position { output.append(start..<position) }
            var end = position + 1
            if !individually {
                while end < piece.upperBound && classes[end] == .number { end += 1 }
            }
            output.append(position..<end)
            position = end
            start = end
        }
        if start < piece.upperBound { output.append(start..<piece.upperBound) }
    }

    /// An ASCII scalar for comparison with a contraction's letters, lowercased when the regex is
    /// case-insensitive; nil for non-ASCII scalars.
    private static func contractionLetter(_ scalar: Unicode.Scalar, caseInsensitive: Bool) -> Unicode.Scalar? {
        guard scalar.isASCII else { return nil }
        return caseInsensitive && (65...90).contains(scalar.value) ? Unicode.Scalar(scalar.value + 32)! : scalar
    }

    /// The length of a contraction (`'s 't 'm 'd 're 've 'll`) at `position`, or 0.
    private static func contractionLength(
        _ scalars: [Unicode.Scalar], _ position: Int, end: Int, caseInsensitive: Bool
    ) -> Int {
        guard scalars[position] == "'", position + 1 < end,
            let next = contractionLetter(scalars[position + 1], caseInsensitive: caseInsensitive)
        else { return 0 }
        if next == "s" || next == "t" || next == "m" || next == "d" { return 2 }
        guard position + 2 < end, let third = contractionLetter(scalars[position + 2], caseInsensitive: caseInsensitive)
        else { return 0 }
        if (next == "r" && third == "e") || (next == "v" && third == "e") || (next == "l" && third == "l") { return 3 }
        return 0
    }

    /// GPT-2's regex, as llama.cpp's `unicode_regex_split_custom_gpt2` runs it.
    private static func splitGPT2(
        _ scalars: [Unicode.Scalar], _ classes: [CharacterClass], _ piece: Range<Int>, into output: inout [Range<Int>]
    ) {
        let end = piece.upperBound
        func classAt(_ index: Int) -> CharacterClass? { index < end ? classes[index] : nil }
        var position = piece.lowerBound
        while position < end {
            let start = position
            let contraction = contractionLength(scalars, position, end: end, caseInsensitive: false)
            if contraction > 0 {
                output.append(start..<(start + contraction))
                position += contraction
                continue
            }
            let isSpace = scalars[position] == " "
            let lookClass = isSpace ? classAt(position + 1) : classes[position]
            if let lookClass, lookClass != .whitespace {
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
                position += isSpace ? 1 : 0
                while position < end && classes[position] == lookClass { position += 1 }
                output.append(start..<position)
                continue
            }
            var whitespaceEnd = position
            while whitespaceEnd < end && classes[whitespaceEnd] == .whitespace { whitespaceEnd += 1 }
            if whitespaceEnd - position > 1 && whitespaceEnd < end {
                // `\s+(?!\S)`: leave the last whitespace to prefix the next word.
                position = whitespaceEnd - 1
            } else if whitespaceEnd > position {
                position = whitespaceEnd  // `\s+`
            } else {
                position += 1
            }
            output.append(start..<position)
        }
    }

    /// The Llama 3 regex, as llama.cpp's `unicode_regex_split_custom_llama3` runs it.
    private static func splitLlama3(
        _ scalars: [Unicode.Scalar], _ classes: [CharacterClass], _ piece: Range<Int>, into output: inout [Range<Int>]
    ) {
        let end = piece.upperBound
        func isNewline(_ index: Int) -> Bool { index < end && (scalars[index] == "\r" || scalars[index] == "\n") }
        var position = piece.lowerBound
        while position < end {
            let start = position
            let contraction = contractionLength(scalars, position, end: end, caseInsensitive: true)
            if contraction > 0 {
                output.append(start..<(start + contraction))
                position += contraction
                continue
            }
            let current = classes[position]
            // `[^\r\n\p{L}\p{N}]?\p{L}+`
            if !isNewline(position) && current != .number
                && (current == .letter || (position + 1 < end && classes[position + 1] == .letter))
            {
                position += 1
                while position < end && classes[position] == .letter { position += 1 }
                output.append(start..<position)
                continue
            }
            // `\p{N}{1,3}`
            if current == .number {
                while position < end && classes[position] == .number && position - start < 3 { position += 1 }
                output.append(start..<position)
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let isSpace = scalars[position] == " "
            let lookIndex = isSpace ? position + 1 : position
            if lookIndex < end && classes[lookIndex] == .other {
                position = lookIndex
                while position < end && classes[position] == .other { position += 1 }
                while isNewline(position) { position += 1 }
                output.append(start..<position)
                continue
            }
            var whitespaceEnd = position
            var lastNewlineEnd = -1
            while whitespaceEnd < end && classes[whitespaceEnd] == .whitespace {
                if isNewline(whitespaceEnd) { lastNewlineEnd = whitespaceEnd + 1 }
                whitespaceEnd += 1
            }
            if lastNewlineEnd > 0 {
                position = lastNewlineEnd  // `\s*[\r\n]+`
            } else if whitespaceEnd - position > 1 && whitespaceEnd < end {
                position = whitespaceEnd - 1  // `\s+(?!\S)`
            } else if whitespaceEnd > position {
                position = whitespaceEnd  // `\s+`
            } else {
                position += 1
            }
            output.append(start..<position)
        }
    }
}
