/// Finds added tokens (`<|im_start|>`, `<s>`) in text as whole strings, leftmost first and the
/// longest at a position, as Hugging Face's `AddedVocabulary` and llama.cpp's special-token
/// partition do before the model sees the text.
struct AddedTokenMatcher: Sendable {
    /// One piece of the text: a run to give to the model, or an added token's id.
    enum Segment: Equatable {
        case text(String)
        case token(Int)
    }

    private var trie = ByteTrie()

    init(tokens: [(content: String, id: Int)]) {
        for (content, id) in tokens where !content.isEmpty {
            trie.insert(Array(content.utf8)[...], value: id)
        }
    }

    var isEmpty: Bool { trie.isEmpty }

    /// `text` cut at every added token.
    func segments(of text: String) -> [Segment] {
        if trie.isEmpty { return text.isEmpty ? [] : [.text(text)] }
        let bytes = Array(text.utf8)
        var segments: [Segment] = []
        var runStart = 0
        var position = 0
        while position < bytes.count {
            if let match = trie.longestPrefix(of: bytes, from: position) {
                if runStart < position { segments.append(.text(String(decoding: bytes[runStart..<position], as: UTF8.self))) }
                segments.append(.token(match.value))
                position = match.end
                runStart = position
            } else {
                position += 1
            }
        }
        if runStart < bytes.count { segments.append(.text(String(decoding: bytes[runStart...], as: UTF8.self))) }
        return segments
    }
}
