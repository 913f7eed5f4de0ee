import MVLMCore

/// Byte-level BPE (GPT-2, SmolLM, Llama 3): the text is split into words by a `PreTokenizer`,
/// each word's UTF-8 bytes start as one symbol per byte, and adjacent symbols are merged by the
/// lowest merge rank (leftmost first on ties) until no ranked pair remains — Hugging Face
/// tokenizers' `Word::merge_all` and llama.cpp's `llm_tokenizer_bpe_session`.
///
/// Tokens are spelled in GPT-2's byte alphabet (`ByteLevelAlphabet`); they are stored here as the
/// raw bytes they stand for, so lookups never compare Swift strings.
public struct ByteLevelBPE: Sendable {
    /// Every token as the vocabulary spells it.
    public let tokens: [String]
    public let preTokenizer: PreTokenizer
    /// Emit a word whole when it is a token, without merging (Llama 3's `ignore_merges`).
    public let ignoreMerges: Bool
    /// The raw bytes of each token (for added tokens outside the byte alphabet: their UTF-8).
    let tokenBytes: [[UInt8]]
    /// Tokens by raw bytes (only tokens spelled in the byte alphabet).
    let idsByBytes: [[UInt8]: Int]
    /// The id of the token of each single byte.
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
    ///   - context: the file or key, for error messages.
    /// - Throws: `MVLMError.malformed` when a merge names a token (or produces one) that is not in
    ///   the vocabulary, or a token appears twice.
    public init(
        tokens: [String], merges: [(String, String)], preTokenizer: PreTokenizer, ignoreMerges: Bool = false,
        unknownID: Int? = nil, context: String = "tokenizer"
    ) throws {
        self.tokens = tokens
        self.preTokenizer = preTokenizer
        self.ignoreMerges = ignoreMerges
        self.unknownID = unknownID
        var bytesOfTokens: [[UInt8]] = []
        bytesOfTokens.reserveCapacity(tokens.count)
        var ids: [[UInt8]: Int] = [:]
        ids.reserveCapacity(tokens.count)
        var singleBytes = [Int?](repeating: nil, count: 256)
        for (id, token) in tokens.enumerated() {
            if let raw = ByteLevelAlphabet.decode(token) {
                bytesOfTokens.append(raw)
                if ids[raw] == nil { ids[raw] = id }
                if raw.count == 1, singleBytes[Int(raw[0])] == nil { singleBytes[Int(raw[0])] = id }
            } else {
                bytesOfTokens.append(Array(token.utf8))
            }
        }
        var rules: [UInt64: (rank: Int32, merged: Int32)] = [:]
        rules.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let leftBytes = ByteLevelAlphabet.decode(left), let rightBytes = ByteLevelAlphabet.decode(right),
                let leftID = ids[leftBytes], let rightID = ids[rightBytes]
            else {
                throw MVLMError(
                    .malformed, "merge \(rank) '\(left) \(right)' names a token that is not in the vocabulary",
                    file: context, subject: "merges")
            }
            guard let merged = ids[leftBytes + rightBytes] else {
                throw MVLMError(
                    .malformed, "merge \(rank) '\(left) \(right)' makes '\(left)\(right)', which is not in the vocabulary",
                    file: context, subject: "merges")
            }
            let key = UInt64(leftID) << 32 | UInt64(rightID)
            if rules[key] == nil { rules[key] = (Int32(rank), Int32(merged)) }
        }
        self.tokenBytes = bytesOfTokens
        self.idsByBytes = ids
        self.byteIDs = singleBytes
        self.merges = rules
    }

    /// The ids of `text`: pre-tokenized into words, each word merged on its own.
    public func encode(_ text: String) -> [Int] {
        var scalars = Array(text.unicodeScalars)
        if preTokenizer.addPrefixSpace, let first = scalars.first, first != " " { scalars.insert(" ", at: 0) }
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
        var id: Int
        var previous: Int
        var next: Int
        var alive: Bool
    }

    /// Appends the tokens of one word (its raw bytes).
    func encodeWord(_ word: [UInt8], into ids: inout [Int]) {
        if word.isEmpty { return }
        if ignoreMerges, let id = idsByBytes[word] {
            ids.append(id)
            return
        }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(word.count)
        for byte in word {
            guard let id = byteIDs[Int(byte)] ?? unknownID else { continue }
            let index = symbols.count
            symbols.append(Symbol(id: id, previous: index - 1, next: index + 1, alive: true))
        }
        if symbols.isEmpty { return }
        symbols[symbols.count - 1].next = -1
        var agenda = BinaryHeap<Merge>()
        func addPair(_ left: Int) {
            guard left >= 0 else { return }
            let right = symbols[left].next
            guard right >= 0 else { return }
            let key = UInt64(symbols[left].id) << 32 | UInt64(symbols[right].id)
            if let rule = merges[key] { agenda.insert(Merge(rank: rule.rank, position: left, merged: rule.merged)) }
        }
        for index in symbols.indices { addPair(index) }
        while let top = agenda.popMinimum() {
            let left = top.position
            guard symbols[left].alive else { continue }
            let right = symbols[left].next
            guard right >= 0 else { continue }
            // Stale if either side has changed since the pair was queued.
            let key = UInt64(symbols[left].id) << 32 | UInt64(symbols[right].id)
            guard let rule = merges[key], rule.merged == top.merged else { continue }
            symbols[left].id = Int(top.merged)
            symbols[right].alive = false
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].previous = left }
            addPair(symbols[left].previous)
            addPair(left)
        }
        var index = 0
        while index >= 0 {
            ids.append(symbols[index].id)
            index = symbols[index].next
        }
    }

    /// The raw bytes of `ids` concatenated (Hugging Face's ByteLevel decoder before its lossy UTF-8
    /// conversion). Ids outside the vocabulary are skipped.
    public func decodedBytes(_ ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where tokenBytes.indices.contains(id) { bytes += tokenBytes[id] }
        return bytes
    }
}
