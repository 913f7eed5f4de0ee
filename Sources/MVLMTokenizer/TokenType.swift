/// What a vocabulary entry is. The raw values are SentencePiece's `ModelProto.SentencePiece.Type`,
/// which GGUF's `tokenizer.ggml.token_type` array reuses.
public enum TokenType: Int, Sendable, Hashable, CaseIterable {
    /// An ordinary piece, produced by the model's segmentation.
    case normal = 1
    /// The unknown token (`<unk>`).
    case unknown = 2
    /// A control token (`<s>`, `</s>`, `<|im_start|>`): never produced from text by the model,
    /// invisible when decoded.
    case control = 3
    /// A user-defined symbol: always kept whole when it occurs in the text.
    case userDefined = 4
    /// A piece that is in the vocabulary but never produced (its parts are used instead).
    case unused = 5
    /// A byte piece `<0xNN>`, the fallback for characters missing from the vocabulary.
    case byte = 6
}
