import MVLMCore

extension Tokenizer {
    /// A tokenizer from GGUF metadata (`GGUFReader.metadata`), as llama.cpp reads it.
    ///
    /// `tokenizer.ggml.model` "gpt2" is byte-level BPE (`tokens`, `merges`, `token_type`, the
    /// pre-tokenizer named by `tokenizer.ggml.pre`); "llama" is a SentencePiece BPE model (`tokens`,
    /// `scores`, `token_type`, `add_space_prefix`, byte fallback when the 256 byte tokens exist).
    /// `bos_token_id`, `eos_token_id`, `unknown_token_id`, `padding_token_id`, `add_bos_token`,
    /// `add_eos_token` and `tokenizer.chat_template` are read when present. CONTROL tokens are
    /// special added tokens; USER_DEFINED tokens are plain added tokens.
    ///
    /// - Throws: `MVLMError` (`.notFound` for missing keys, `.malformed` for wrong types or
    ///   inconsistent tables, `.unsupported` for other tokenizer models or pre-tokenizers).
    public init(ggufMetadata metadata: [String: MetadataValue], context: String = "GGUF metadata") throws {
        func key(_ name: String) -> String { "tokenizer.ggml.\(name)" }
        func strings(_ name: String) throws -> [String] {
            guard let value = metadata[key(name)] else {
                throw MVLMError(.notFound, "missing key", file: context, subject: key(name))
            }
            guard let array = value.arrayValue else {
                throw MVLMError(.malformed, "expected an array of strings", file: context, subject: key(name))
            }
            return try array.enumerated().map { index, element in
                guard let string = element.stringValue else {
                    throw MVLMError(.malformed, "element \(index) is not a string", file: context, subject: key(name))
                }
                return string
            }
        }
        func integer(_ name: String) throws -> Int? {
            guard let value = metadata[key(name)] else { return nil }
            guard let integer = value.intValue else {
                throw MVLMError(.malformed, "expected an integer, found \(value.summary())", file: context, subject: key(name))
            }
            return integer
        }
        func flag(_ name: String) throws -> Bool? {
            guard let value = metadata[key(name)] else { return nil }
            guard case .bool(let flag) = value else {
                throw MVLMError(.malformed, "expected a bool, found \(value.summary())", file: context, subject: key(name))
            }
            return flag
        }

        guard let modelName = metadata[key("model")]?.stringValue else {
            throw MVLMError(.notFound, "missing key (the file has no tokenizer)", file: context, subject: key("model"))
        }
        let tokens = try strings("tokens")
        var types = [TokenType](repeating: .normal, count: tokens.count)
        if let value = metadata[key("token_type")] {
            guard let array = value.arrayValue, array.count == tokens.count else {
                throw MVLMError(
                    .malformed, "expected \(tokens.count) token types (one per token)", file: context,
                    subject: key("token_type"))
            }
            for (index, element) in array.enumerated() {
                guard let raw = element.intValue, let type = TokenType(rawValue: raw) else {
                    throw MVLMError(
                        .malformed, "token \(index) has type \(element.summary()), not one of 1...6", file: context,
                        subject: key("token_type"))
                }
                types[index] = type
            }
        }
        var bos = try integer("bos_token_id")
        let eos = try integer("eos_token_id")
        let unknown = try integer("unknown_token_id")
        let padding = try integer("padding_token_id")
        let template = metadata["tokenizer.chat_template"]?.stringValue

        let model: Model
        let defaultAddBOS: Bool
        switch modelName {
        case "gpt2", "gemma4":
            // llama.cpp reads Gemma 4's vocabulary as BPE with its own pre-tokenizer type.
            let pre = modelName == "gemma4" ? "gemma4" : metadata[key("pre")]?.stringValue ?? "default"
            guard let type = LlamaCppVocabularyType(pre: pre) else {
                throw MVLMError(
                    .unsupported,
                    "pre-tokenizer '\(pre)' is not supported (llama.cpp's types that are: \(LlamaCppVocabularyType.knownNames.joined(separator: ", ")))",
                    file: context, subject: key("pre"))
            }
            guard let mergeValues = metadata[key("merges")]?.arrayValue else {
                throw MVLMError(.notFound, "missing key (a BPE vocabulary needs its merges)", file: context, subject: key("merges"))
            }
            var merges: [([UInt8], [UInt8])] = []
            merges.reserveCapacity(mergeValues.count)
            for index in mergeValues.indices {
                guard let merge = mergeValues[index].stringValue else {
                    throw MVLMError(.malformed, "element \(index) is not a string", file: context, subject: key("merges"))
                }
                // llama.cpp splits at the first space after the first byte.
                var left: [UInt8] = []
                var right: [UInt8] = []
                var inRight = false
                for byte in merge.utf8 {
                    if inRight {
                        right.append(byte)
                    } else if byte == 0x20 && !left.isEmpty {
                        inRight = true
                    } else {
                        left.append(byte)
                    }
                }
                guard !right.isEmpty else {
                    throw MVLMError(.malformed, "merge \(index) '\(merge)' is not 'left right'", file: context, subject: key("merges"))
                }
                merges.append((left, right))
            }
            model = .byteLevelBPE(try ByteLevelBPE(
                tokens: tokens, mergeSpellings: merges, preTokenizer: type.preTokenizer, ignoreMerges: type.ignoreMerges,
                unknownID: type.isSentencePieceStyle ? nil : unknown, isSentencePieceStyle: type.isSentencePieceStyle,
                emitsNewlineRunsWhole: type.emitsNewlineRunsWhole, context: context))
            defaultAddBOS = type.addsBOS
            if type.hasNoBOS { bos = nil }
        case "llama":
            guard let scoreValues = metadata[key("scores")]?.arrayValue, scoreValues.count == tokens.count else {
                throw MVLMError(.malformed, "expected \(tokens.count) scores (one per token)", file: context, subject: key("scores"))
            }
            var pieces: [SentencePieceModel.Piece] = []
            pieces.reserveCapacity(tokens.count)
            for (index, token) in tokens.enumerated() {
                guard let score = scoreValues[index].doubleValue else {
                    throw MVLMError(.malformed, "score \(index) is not a number", file: context, subject: key("scores"))
                }
                pieces.append(.init(text: token, score: Float(score), type: types[index]))
            }
            var options = SentencePieceModel.Options()
            options.addDummyPrefix = try flag("add_space_prefix") ?? true
            options.removeExtraWhitespaces = try flag("remove_extra_whitespaces") ?? false
            let bytePieces = Set(pieces.filter { $0.type == .byte }.map(\.text))
            options.byteFallback = (0..<256).allSatisfy { bytePieces.contains("<0x\(SentencePieceModel.hex(UInt8($0)))>") }
            let unknownID = unknown ?? pieces.firstIndex { $0.type == .unknown } ?? 0
            model = .sentencePiece(try SentencePieceModel(
                algorithm: .bpe, pieces: pieces, options: options, unknownID: unknownID, bosID: bos, eosID: eos,
                padID: padding, requiresUnknownPiece: false, context: context))
            defaultAddBOS = true
        default:
            throw MVLMError(
                .unsupported, "tokenizer model '\(modelName)' is not supported (supported: gpt2 and gemma4 (BPE), llama (SentencePiece); not bert (WordPiece), t5 (Unigram), rwkv, plamo2)", file: context,
                subject: key("model"))
        }
        var added: [AddedToken] = []
        for (id, type) in types.enumerated() {
            // llama.cpp matches CONTROL and UNKNOWN tokens in text (with parse_special) for every
            // vocabulary type; USER_DEFINED ones always, which a SentencePiece model does itself.
            if type == .control || type == .unknown {
                added.append(AddedToken(content: tokens[id], id: id, isSpecial: true))
            } else if type == .userDefined && modelName != "llama" {
                added.append(AddedToken(content: tokens[id], id: id, isSpecial: false))
            }
        }
        let special = Set(types.indices.filter { types[$0] == .control || types[$0] == .unknown })
        try self.init(
            model: model, addedTokens: added, specialIDs: special, bosID: bos, eosID: eos, unknownID: unknown,
            paddingID: padding, addBOS: try flag("add_bos_token") ?? defaultAddBOS,
            addEOS: try flag("add_eos_token") ?? false, chatTemplate: template, context: context)
        let prefix = "tokenizer.chat_template."
        for (key, value) in metadata where key.hasPrefix(prefix) {
            if let text = value.stringValue { namedChatTemplates[String(key.dropFirst(prefix.count))] = text }
        }
    }
}
