import MVLMCore

/// A text tokenizer: a SentencePiece model or a byte-level BPE model, with its special tokens and
/// the added tokens that are matched in text as whole strings before the model runs.
///
/// Build one from a model folder (`Tokenizer(folder:)`: `tokenizer.model` or `tokenizer.json`,
/// plus `tokenizer_config.json`) or from GGUF metadata (`Tokenizer(ggufMetadata:)`).
/// Encoding and decoding are pure computation over the loaded tables.
public struct Tokenizer: Sendable {
    /// The segmentation model.
    public enum Model: Sendable {
        case sentencePiece(SentencePieceModel)
        case byteLevelBPE(ByteLevelBPE)
    }

    /// A token matched in text as a whole string before the model runs.
    public struct AddedToken: Sendable, Hashable {
        public var content: String
        public var id: Int
        /// Special tokens are matched only when encoding with `parseSpecial` and are dropped by
        /// `decode(_:skipSpecial:)`; other added tokens are always matched and always decoded.
        public var isSpecial: Bool

        public init(content: String, id: Int, isSpecial: Bool) {
            self.content = content
            self.id = id
            self.isSpecial = isSpecial
        }
    }

    public let model: Model
    public let addedTokens: [AddedToken]
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    /// Whether `encode` puts `bosID` first unless told otherwise.
    public var addBOS: Bool
    /// Whether `encode` puts `eosID` last.
    public var addEOS: Bool
    /// The Jinja chat template the model ships, if any (`ChatPrompt` renders it).
    public var chatTemplate: String?
    /// Named chat templates besides the default (`tool_use`…), from a list of templates.
    public var namedChatTemplates: [String: String] = [:]

    private let allAddedTokens: AddedTokenMatcher
    private let plainAddedTokens: AddedTokenMatcher
    /// Ids dropped by `decode(_:skipSpecial: true)`.
    public let specialIDs: Set<Int>

    /// A tokenizer from its parts.
    ///
    /// - Parameters:
    ///   - model: the segmentation model.
    ///   - addedTokens: tokens matched whole in text (ids must be in the vocabulary).
    ///   - specialIDs: ids `decode(_:skipSpecial:)` drops; the special added tokens are always in it.
    /// - Throws: `MVLMError.malformed` when an id is outside the vocabulary.
    public init(
        model: Model, addedTokens: [AddedToken] = [], specialIDs: Set<Int> = [], bosID: Int? = nil,
        eosID: Int? = nil, unknownID: Int? = nil, paddingID: Int? = nil, addBOS: Bool = false, addEOS: Bool = false,
        chatTemplate: String? = nil, context: String = "tokenizer"
    ) throws {
        self.model = model
        let size: Int
        switch model {
        case .sentencePiece(let sentencePiece): size = sentencePiece.pieces.count
        case .byteLevelBPE(let bpe): size = bpe.tokens.count
        }
        for (name, id) in [("bos", bosID), ("eos", eosID), ("unk", unknownID), ("pad", paddingID)] {
            if let id, !(0..<size).contains(id) {
                throw MVLMError(.malformed, "\(name) token id \(id) is outside the vocabulary of \(size)", file: context)
            }
        }
        for token in addedTokens where !(0..<size).contains(token.id) {
            throw MVLMError(
                .malformed, "added token '\(token.content)' has id \(token.id), outside the vocabulary of \(size)",
                file: context)
        }
        self.addedTokens = addedTokens
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
        allAddedTokens = AddedTokenMatcher(tokens: addedTokens.map { ($0.content, $0.id) })
        plainAddedTokens = AddedTokenMatcher(tokens: addedTokens.filter { !$0.isSpecial }.map { ($0.content, $0.id) })
        self.specialIDs = specialIDs.union(addedTokens.filter(\.isSpecial).map(\.id))
    }

    /// The number of ids.
    public var vocabularySize: Int {
        switch model {
        case .sentencePiece(let sentencePiece): sentencePiece.pieces.count
        case .byteLevelBPE(let bpe): bpe.tokens.count
        }
    }

    /// The token of an id as the vocabulary spells it (`▁the`, `Ġthe`, `<0x0A>`), or nil.
    public func token(forID id: Int) -> String? {
        switch model {
        case .sentencePiece(let sentencePiece): sentencePiece.pieces.indices.contains(id) ? sentencePiece.pieces[id].text : nil
        case .byteLevelBPE(let bpe): bpe.tokens.indices.contains(id) ? bpe.tokens[id] : nil
        }
    }

    /// The ids of `text`.
    ///
    /// - Parameters:
    ///   - text: any string.
    ///   - addBOS: put `bosID` first; nil uses the tokenizer's `addBOS` setting.
    ///   - parseSpecial: match special added tokens (`<|im_start|>`, `<s>`) written in the text as
    ///     their ids (llama.cpp's and Hugging Face's default). With false, only non-special added
    ///     tokens are matched, so a SentencePiece model gives exactly what sentencepiece gives.
    /// - Returns: the token ids; `eosID` last when `addEOS` is set.
    public func encode(_ text: String, addBOS: Bool? = nil, parseSpecial: Bool = true) -> [Int] {
        var ids: [Int] = []
        if addBOS ?? self.addBOS, let bosID { ids.append(bosID) }
        for segment in (parseSpecial ? allAddedTokens : plainAddedTokens).segments(of: text) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let run):
                switch model {
                case .sentencePiece(let sentencePiece): ids += sentencePiece.encode(run)
                case .byteLevelBPE(let bpe): ids += bpe.encode(run)
                }
            }
        }
        if addEOS, let eosID { ids.append(eosID) }
        return ids
    }

    /// The text of `ids`.
    ///
    /// SentencePiece models decode as sentencepiece does (`▁` to space, byte pieces reassembled,
    /// the leading dummy space removed); byte-level models map every token back to its bytes and
    /// read them as UTF-8, replacing invalid sequences with U+FFFD. Ids outside the vocabulary are
    /// skipped.
    ///
    /// - Parameter skipSpecial: drop special tokens (bos, eos, control tokens); otherwise they
    ///   appear as their text (`<s>`, `<|im_end|>`).
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        let kept = skipSpecial ? ids.filter { !specialIDs.contains($0) } : ids
        switch model {
        case .sentencePiece(let sentencePiece):
            return sentencePiece.decode(kept, renderingControlPieces: !skipSpecial)
        case .byteLevelBPE(let bpe):
            return String(decoding: bpe.decodedBytes(kept), as: UTF8.self)
        }
    }
}
