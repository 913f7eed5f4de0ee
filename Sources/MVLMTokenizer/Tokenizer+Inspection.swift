import MVLMCore

extension Tokenizer {
    /// One token of a tokenization: its id, its spelling in the vocabulary and the text it stands for.
    public struct TokenEntry: Sendable, Hashable, Codable {
        public var id: Int
        /// The token as the vocabulary spells it (`▁the`, `Ġthe`, `<0x0A>`, `<|im_end|>`).
        public var token: String
        /// The text the token contributes on its own: spaces for `▁`/`Ġ`, byte tokens as their byte.
        /// Bytes that are not whole UTF-8 characters on their own show as U+FFFD.
        public var text: String

        public init(id: Int, token: String, text: String) {
            self.id = id
            self.token = token
            self.text = text
        }
    }

    /// Every id of `ids` with its spelling and text.
    /// - Throws: `MVLMError.invalidArgument` naming the first id outside the vocabulary.
    public func entries(of ids: [Int]) throws -> [TokenEntry] {
        try checkIDs(ids)
        return ids.map { TokenEntry(id: $0, token: token(forID: $0) ?? "", text: text(ofID: $0)) }
    }

    /// The text one token contributes, without SentencePiece's removal of the leading space.
    public func text(ofID id: Int) -> String {
        switch model {
        case .sentencePiece(let sentencePiece):
            guard sentencePiece.pieces.indices.contains(id) else { return "" }
            let piece = sentencePiece.pieces[id]
            if piece.type == .byte, let byte = SentencePieceModel.byteValue(ofPiece: piece.text) {
                return String(decoding: [byte], as: UTF8.self)
            }
            return String(decoding: ByteLevelBPE.unescapingSpaces(Array(piece.text.utf8)), as: UTF8.self)
        case .byteLevelBPE(let bpe):
            return String(decoding: bpe.decodedBytes([id]), as: UTF8.self)
        }
    }

    /// Checks that every id lies in the vocabulary.
    /// - Throws: `MVLMError.invalidArgument` naming the first id that does not, its position and the
    ///   vocabulary size.
    public func checkIDs(_ ids: [Int]) throws {
        let size = vocabularySize
        if let index = ids.firstIndex(where: { !(0..<size).contains($0) }) {
            throw MVLMError(
                .invalidArgument,
                "token id \(ids[index]) (position \(index + 1)) is outside the vocabulary (ids 0...\(size - 1))")
        }
    }

    /// The text of `ids`, after checking them (`decode(_:skipSpecial:)` skips unknown ids silently).
    /// - Throws: `MVLMError.invalidArgument` naming the first id outside the vocabulary.
    public func decodeChecked(_ ids: [Int], skipSpecial: Bool = false) throws -> String {
        try checkIDs(ids)
        return decode(ids, skipSpecial: skipSpecial)
    }

    /// Token ids written as text: integers separated by commas and/or white space, optionally in
    /// brackets (`1,2,3`, `1 2 3`, `[1, 2, 3]`). An empty list is allowed.
    /// - Throws: `MVLMError.invalidArgument` quoting the first field that is not a non-negative integer.
    public static func ids(parsing text: String) throws -> [Int] {
        var body = Substring(text).trimmingWhitespace()
        if body.first == "[" && body.last == "]" { body = body.dropFirst().dropLast() }
        var ids: [Int] = []
        for field in body.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            guard field.allSatisfy(\.isASCII), let id = Int(field), id >= 0 else {
                throw MVLMError(
                    .invalidArgument,
                    "'\(field.prefix(40))' is not a token id (ids are integers >= 0, separated by commas or spaces)")
            }
            ids.append(id)
        }
        return ids
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}
