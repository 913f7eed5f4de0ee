import MVLMCore

/// Byte-level BPE (GPT-2, SmolLM, Llama 3): the text is split into words by a `PreTokenizer`,
/// each word's UTF-8 bytes start as one symbol per byte, and adjacent symbols are merged by the
/// lowest merge rank (leftmost first on ties) until no ranked pair remains — Hugging Face
/// tokenizers' `Word::merge_all` and llama.cpp's `llm_tokenizer_bpe_session`.
///
/// Tokens are spelled in GPT-2's byte alphabet (`ByteLevelAlphabet`); they are stored here as the
/// raw bytes they stand for, so lookups never compare Swift strings.
///
/// With `isSentencePieceStyle` (Gemma 4's vocabulary in llama.cpp) the same merge loop runs over
/// SentencePiece-spelled tokens instead: spaces become `▁` before splitting, each word starts as
/// one symbol per UTF-8 character, and a symbol that is not a token is emitted as `<0xNN>` byte
/// tokens (llama.cpp's `llm_tokenizer_bpe_session` with `byte_encode` off).
public struct ByteLevelBPE: Sendable {
    /// Every token as the vocabulary spells it.
    public let tokens: [String]
    public let preTokenizer: PreTokenizer
    /// Emit a word whole when it is a token, without merging (Llama 3's `ignore_merges`).
    public let ignoreMerges: Bool
    /// SentencePiece spelling (`▁` for spaces, `<0xNN>` byte tokens) instead of GPT-2's byte alphabet.
    public let isSentencePieceStyle: Bool
    /// Emit a word made only of newlines whole when it is a token (llama.cpp's rule for Gemma 4).
    public let emitsNewlineRunsWhole: Bool
    /// Tokens by spelling (their UTF-8, as the vocabulary writes them; the first id wins).
    let idsBySpelling: [[UInt8]: Int]
    /// The id of the token of each single byte (`<0xNN>` in SentencePiece style).
    let byteIDs: [Int?]
    /// Merge rules by `left << 32 | right` token ids: rank and merged token id.
    let merges: [UInt64: (rank: Int32, merged: Int32)]
    /// The id used for a byte without a token, if any.
    let unknownID: Int?

    /// A model from a vocabulary and its merge rules.
    ///
    /// - Parameters:
    ///   - tokens: the vocabulary in id order, spelled in the byte alphabet.
    ///   - merges: the merge rules in rank order, each a pair of tokens.
    ///   - isSentencePieceStyle: tokens are spelled as SentencePiece spells them (see the type).
    ///   - emitsNewlineRunsWhole: a word of newlines only is emitted whole when it is a token.
    ///   - context: the file or key, for error messages.
    /// - Throws: `MVLMError.malformed` when a merge names a token (or produces one) that is not in
    ///   the vocabulary.
    public init(
        tokens: [String], merges: [(String, String)], preTokenizer: PreTokenizer, ignoreMerges: Bool = false,
        unknownID: Int? = nil, isSentencePieceStyle: Bool = false, emitsNewlineRunsWhole: Bool = false,
        context: String = "tokenizer"
    ) throws {
        try self.init(
            tokens: tokens, mergeSpellings: merges.map { (Array($0.0.utf8), Array($0.1.utf8)) },
            preTokenizer: preTokenizer, ignoreMerges: ignoreMerges, unknownID: unknownID,
            isSentencePieceStyle: isSentencePieceStyle, emitsNewlineRunsWhole: emitsNewlineRunsWhole, context: context)
    }

    /// The same with each merge rule given as the UTF-8 of its two tokens (no `String` round trip
    /// for the hundreds of thousands of rules a GGUF vocabulary holds).
    init(
        tokens: [String], mergeSpellings: [([UInt8], [UInt8])], preTokenizer: PreTokenizer, ignoreMerges: Bool,
        unknownID: Int?, isSentencePieceStyle: Bool, emitsNewlineRunsWhole: Bool, context: String
    ) throws {
        self.tokens = tokens
        self.preTokenizer = preTokenizer
        self.ignoreMerges = ignoreMerges
        self.unknownID = unknownID
        self.isSentencePieceStyle = isSentencePieceStyle
        self.emitsNewlineRunsWhole = emitsNewlineRunsWhole
        var ids: [[UInt8]: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            let spelling = Array(token.utf8)
            if ids[spelling] == nil { ids[spelling] = id }
        }
        var singleBytes = [Int?](repeating: nil, count: 256)
        for byte in 0..<256 {
            singleBytes[byte] =
                isSentencePieceStyle
                ? ids[Array("<0x\(SentencePieceModel.hex(UInt8(byte)))>".utf8)]
                : ids[ByteLevelAlphabet.spellings[byte]]
        }
        var rules: [UInt64: (rank: Int32, merged: Int32)] = [:]
        rules.reserveCapacity(mergeSpellings.count)
        for (rank, (left, right)) in mergeSpellings.enumerated() {
            func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
            guard let leftID = ids[left], let rightID = ids[right] else {
                throw MVLMError(
                    .malformed, "merge \(rank) '\(text(left)) \(text(right))' names a token that is not in the vocabulary",
                    file: context, subject: "merges")
            }
            guard let merged = ids[left + right] else {
                throw MVLMError(
                    .malformed,
                    "merge \(rank) '\(text(left)) \(text(right))' makes '\(text(left + right))', which is not in the vocabulary",
                    file: context, subject: "merges")
            }
            let key = UInt64(leftID) << 32 | UInt64(rightID)
            if rules[key] == nil { rules[key] = (Int32(rank), Int32(merged)) }
        }
        self.idsBySpelling = ids
        self.byteIDs = singleBytes
        self.merges = rules
    }

    /// The ids of `text`: pre-tokenized into words, each word merged on its own.
    public func encode(_ text: String) -> [Int] {
        var scalars = Array(text.unicodeScalars)
        if preTokenizer.addPrefixSpace, let first = scalars.first, first != " " { scalars.insert(" ", at: 0) }
        if isSentencePieceStyle {
            for index in scalars.indices where scalars[index] == " " { scalars[index] = "\u{2581}" }
        }
        var ids: [Int] = []
        var word: [UInt8] = []
        for range in preTokenizer.split(scalars) {
            word.removeAll(keepingCapacity: true)
            for scalar in scalars[range] { UTF8.encode(scalar) { word.append($0) } }
            encodeWord(word, into: &ids)
        }
        return ids
    }

    /// A candidate merge: the lowest rank first, then the leftmost.
    private struct Merge: Comparable {
        var rank: Int32
        var position: Int
        var merged: Int32

        static func < (a: Merge, b: Merge) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.position < b.position)
        }
    }

    private struct Symbol {
        /// The token id, or -1 for a character that is not a token (SentencePiece style only).
        var id: Int
        var previous: Int
        var next: Int
        var alive: Bool
        /// The symbol's bytes in the word, for the byte fallback of a non-token.
        var start: Int
        var end: Int
    }

    /// Appends the tokens of one word (its raw bytes).
    func encodeWord(_ word: [UInt8], into ids: inout [Int]) {
        if word.isEmpty { return }
        if ignoreMerges || (emitsNewlineRunsWhole && word.allSatisfy { $0 == 0x0A }),
            let id = idsBySpelling[isSentencePieceStyle ? word : word.flatMap { ByteLevelAlphabet.spellings[Int($0)] }]
        {
            ids.append(id)
            return
        }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(word.count)
        if isSentencePieceStyle {
            var start = 0
            while start < word.count {
                let end = min(word.count, start + SentencePieceModel.characterLength(lead: word[start]))
                let index = symbols.count
                symbols.append(Symbol(
                    id: idsBySpelling[Array(word[start..<end])] ?? -1, previous: index - 1, next: index + 1, alive: true,
                    start: start, end: end))
                start = end
            }
        } else {
            for (offset, byte) in word.enumerated() {
                guard let id = byteIDs[Int(byte)] ?? unknownID else { continue }
                let index = symbols.count
                symbols.append(Symbol(
                    id: id, previous: index - 1, next: index + 1, alive: true, start: offset, end: offset + 1))
            }
        }
        if symbols.isEmpty { return }
        symbols[symbols.count - 1].next = -1
        var agenda = BinaryHeap<Merge>()
        func addPair(_ left: Int) {
            guard left >= 0 else { return }
            let right = symbols[left].next
            guard right >= 0, symbols[left].id >= 0, symbols[right].id >= 0 else { return }
            let key = UInt64(symbols[left].id) << 32 | UInt64(symbols[right].id)
            if let rule = merges[key] { agenda.insert(Merge(rank: rule.rank, position: left, merged: rule.merged)) }
        }
        for index in symbols.indices { addPair(index) }
        while let top = agenda.popMinimum() {
            let left = top.position
            guard symbols[left].alive else { continue }
            let right = symbols[left].next
            guard right >= 0, symbols[right].id >= 0 else { continue }
            // Stale if either side has changed since the pair was queued.
            let key = UInt64(symbols[left].id) << 32 | UInt64(symbols[right].id)
            guard let rule = merges[key], rule.merged == top.merged else { continue }
            symbols[left].id = Int(top.merged)
            symbols[left].end = symbols[right].end
            symbols[right].alive = false
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].previous = left }
            addPair(symbols[left].previous)
            addPair(left)
        }
        var index = 0
        while index >= 0 {
            if symbols[index].id >= 0 {
                ids.append(symbols[index].id)
            } else {
                // Not a token: its bytes as <0xNN> tokens (skipped when the vocabulary lacks one).
                for byte in word[symbols[index].start..<symbols[index].end] {
                    if let id = byteIDs[Int(byte)] { ids.append(id) }
                }
            }
            index = symbols[index].next
        }
    }

    /// `bytes` with every `▁` (U+2581) replaced by a space.
    static func unescapingSpaces(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == 0xE2, bytes[index + 1] == 0x96, bytes[index + 2] == 0x81 {
                output.append(0x20)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    /// The raw bytes of `ids` concatenated (Hugging Face's ByteLevel decoder before its lossy UTF-8
    /// conversion). A token outside the byte alphabet (an added token) gives its UTF-8; in
    /// SentencePiece style `▁` gives a space and `<0xNN>` its byte. Ids outside the vocabulary are
    /// skipped.
    public func decodedBytes(_ ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where tokens.indices.contains(id) {
            let token = tokens[id]
            if isSentencePieceStyle {
                if let byte = SentencePieceModel.byteValue(ofPiece: token) {
                    bytes.append(byte)
                } else {
                    bytes += Self.unescapingSpaces(Array(token.utf8))
                }
            } else {
                bytes += ByteLevelAlphabet.decode(token) ?? Array(token.utf8)
            }
        }
        return bytes
    }
}
