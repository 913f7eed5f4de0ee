import MVLMCore

/// A SentencePiece model as LLaMA and MobileLLaMA ship it in `tokenizer.model`: the pieces with
/// their scores and types, the segmentation algorithm (BPE or unigram) and the normalizer options.
///
/// Encoding follows sentencepiece's `normalizer.cc`, `bpe_model.cc` and `unigram_model.cc`
/// (docs/tokenizers.md); decoding follows `SentencePieceProcessor::Decode`. The normalizer must be
/// the identity rule (LLaMA's): a precompiled character map (`nmt_nfkc`) is rejected when parsing.
public struct SentencePieceModel: Sendable {
    /// The segmentation algorithm (`TrainerSpec.model_type`).
    public enum Algorithm: Int, Sendable {
        /// Viterbi over piece log-probabilities (sentencepiece's default).
        case unigram = 1
        /// Greedy merges of adjacent symbols, highest piece score first.
        case bpe = 2
    }

    /// One vocabulary entry.
    public struct Piece: Sendable, Hashable {
        public var text: String
        public var score: Float
        public var type: TokenType

        public init(text: String, score: Float, type: TokenType) {
            self.text = text
            self.score = score
            self.type = type
        }
    }

    /// The options of `NormalizerSpec` and `TrainerSpec` that change encoding and decoding.
    public struct Options: Sendable, Hashable {
        /// Prepend `▁` to the text (true for LLaMA).
        public var addDummyPrefix = true
        /// Drop leading and trailing spaces and collapse runs of spaces (false for LLaMA).
        public var removeExtraWhitespaces = true
        /// Replace ' ' with `▁` (U+2581).
        public var escapeWhitespaces = true
        /// Put the dummy whitespace at the end of words instead of the start.
        public var treatWhitespaceAsSuffix = false
        /// Decompose characters missing from the vocabulary into `<0xNN>` byte pieces.
        public var byteFallback = false
        /// What an unknown piece decodes to (`TrainerSpec.unk_surface`).
        public var unknownSurface = " \u{2047} "

        public init() {}
    }

    public let algorithm: Algorithm
    public let pieces: [Piece]
    public let options: Options
    /// Special ids from `TrainerSpec` (nil when the model has none, e.g. `pad_id = -1`).
    public let unknownID: Int
    public let bosID: Int?
    public let eosID: Int?
    public let padID: Int?

    /// Pieces the segmentation may produce (NORMAL, USER_DEFINED, UNUSED): sentencepiece's `pieces_`.
    let segmentationTrie: ByteTrie
    /// USER_DEFINED pieces, matched whole (longest first) before segmentation.
    let userDefinedTrie: ByteTrie
    /// The id of each `<0xNN>` piece.
    let byteIDs: [Int?]
    /// Minimum and maximum score over NORMAL pieces (unigram's unknown penalty and user bonus).
    let minimumScore: Float
    let maximumScore: Float
    /// The longest piece the segmentation may produce, in bytes (BPE skips longer candidate pairs).
    let maximumPieceLength: Int

    /// A model from its pieces and options.
    ///
    /// - Parameter requiresUnknownPiece: `unknownID` must be an UNKNOWN piece (sentencepiece's rule).
    ///   GGUF vocabularies need not have one (Phi-3's `<unk>` is a CONTROL token): llama.cpp only
    ///   uses the id.
    /// - Throws: `MVLMError.malformed` when there is no UNKNOWN piece, a BYTE piece is not `<0xNN>`,
    ///   or a special id is out of range.
    public init(
        algorithm: Algorithm, pieces: [Piece], options: Options, unknownID: Int, bosID: Int?, eosID: Int?,
        padID: Int?, requiresUnknownPiece: Bool = true, context: String = "SentencePiece model"
    ) throws {
        self.algorithm = algorithm
        self.pieces = pieces
        self.options = options
        for (name, id) in [("unk_id", unknownID as Int?), ("bos_id", bosID), ("eos_id", eosID), ("pad_id", padID)] {
            if let id, !pieces.indices.contains(id) {
                throw MVLMError(.malformed, "\(name) \(id) is outside the \(pieces.count) pieces", file: context)
            }
        }
        guard pieces.indices.contains(unknownID), pieces[unknownID].type == .unknown || !requiresUnknownPiece else {
            throw MVLMError(
                .malformed, "unk_id \(unknownID) is not an UNKNOWN piece; the model needs exactly one", file: context)
        }
        self.unknownID = unknownID
        self.bosID = bosID
        self.eosID = eosID
        self.padID = padID

        var segmentation = ByteTrie()
        var userDefined = ByteTrie()
        var bytes = [Int?](repeating: nil, count: 256)
        var minimum = Float.greatestFiniteMagnitude
        var maximum = -Float.greatestFiniteMagnitude
        var longest = 0
        for (id, piece) in pieces.enumerated() {
            let utf8 = Array(piece.text.utf8)
            switch piece.type {
            case .normal, .userDefined, .unused:
                guard !utf8.isEmpty else {
                    throw MVLMError(.malformed, "piece \(id) is empty", file: context)
                }
                if segmentation.value(for: utf8[...]) == nil { segmentation.insert(utf8[...], value: id) }
                longest = max(longest, utf8.count)
                if piece.type == .userDefined { userDefined.insert(utf8[...], value: id) }
                if piece.type == .normal {
                    minimum = min(minimum, piece.score)
                    maximum = max(maximum, piece.score)
                }
            case .byte:
                guard let value = Self.byteValue(ofPiece: piece.text) else {
                    throw MVLMError(
                        .malformed, "piece \(id) has type BYTE but text '\(piece.text)' is not <0xNN>", file: context)
                }
                bytes[Int(value)] = id
            case .unknown, .control:
                break
            }
        }
        if options.byteFallback, let missing = bytes.firstIndex(where: { $0 == nil }) {
            throw MVLMError(
                .malformed, "byte_fallback is set but there is no byte piece <0x\(Self.hex(UInt8(missing)))>", file: context)
        }
        self.segmentationTrie = segmentation
        self.userDefinedTrie = userDefined
        self.byteIDs = bytes
        self.minimumScore = minimum
        self.maximumScore = maximum
        self.maximumPieceLength = longest
    }

    /// The byte a `<0xNN>` piece stands for.
    static func byteValue(ofPiece text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
        func digit(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        guard let high = digit(utf8[3]), let low = digit(utf8[4]) else { return nil }
        return high << 4 | low
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }

    /// The id of a piece given by its text, if the vocabulary has it.
    public func id(ofPiece text: String) -> Int? {
        let utf8 = Array(text.utf8)
        if let id = segmentationTrie.value(for: utf8[...]) { return id }
        return pieces.firstIndex { $0.text.utf8.elementsEqual(utf8) }
    }
}
