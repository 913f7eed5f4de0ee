import Foundation
import MVLMConvert
import MVLMCore
import MVLMGGUF
import MVLMTokenizer

extension GGUFVocabulary {
    /// Accumulates the entries in llama.cpp's order.
    struct Builder {
        var config: [String: MetadataValue]
        var context: String
        var tokenizerConfig: [String: Any]?
        var tokenizerJSON: [String: Any]?
        var entries: [GGUFMetadataEntry] = []

        init(config: [String: MetadataValue], context: String) {
            self.config = config
            self.context = context
        }

        /// Adds or (as gguf-py does for a repeated key) replaces an entry in place.
        mutating func add(_ key: String, _ type: GGUFValueType, _ value: MetadataValue) {
            let entry = GGUFMetadataEntry(key: key, type: type, value: value)
            if let index = entries.firstIndex(where: { $0.key == key }) { entries[index] = entry } else { entries.append(entry) }
        }

        var vocabularySize: Int? { config["vocab_size"]?.intValue }

        mutating func addSentencePiece(_ model: SentencePieceModel) throws {
            let size = vocabularySize ?? model.pieces.count
            var tokens = (0..<size).map { "[PAD\($0)]" }
            var scores = [Double](repeating: -10000, count: size)
            var types = [TypeCode](repeating: .unused, count: size)
            for (id, piece) in model.pieces.enumerated() where id < size {
                tokens[id] = piece.text
                scores[id] = Double(piece.score)
                switch piece.type {
                case .unknown: types[id] = .unknown
                case .control: types[id] = .control
                case .unused: types[id] = .unused
                case .byte: types[id] = .byte
                case .normal, .userDefined: types[id] = .normal
                }
            }
            if let decoder = tokenizerConfig?["added_tokens_decoder"] as? [String: Any] {
                for (key, value) in decoder {
                    guard let id = Int(key), id >= 0, id < size, let entry = value as? [String: Any],
                        var content = entry["content"] as? String
                    else { continue }
                    if entry["special"] as? Bool == true || GGUFVocabulary.looksSpecial(content) {
                        types[id] = .control
                    } else {
                        content = content.replacingOccurrences(of: "\u{2581}", with: " ")
                        types[id] = .userDefined
                    }
                    scores[id] = -1000
                    tokens[id] = content
                }
            }
            add("tokenizer.ggml.model", .string, .string("llama"))
            add("tokenizer.ggml.pre", .string, .string("default"))
            add("tokenizer.ggml.tokens", .array, .array(tokens.map { .string($0) }, elementType: "STRING"))
            add("tokenizer.ggml.scores", .array, .array(scores.map { .float($0) }, elementType: "FLOAT32"))
            add("tokenizer.ggml.token_type", .array, .array(types.map { .int($0.rawValue) }, elementType: "INT32"))
            addSpecialVocabulary(size: size, merges: nil)
        }

        mutating func addByteLevel(_ tokenizer: Tokenizer) throws {
            guard case .byteLevelBPE(let bpe) = tokenizer.model else {
                throw MVLMError(.unsupported, "tokenizer.json is not a byte-level BPE model", file: context)
            }
            guard let pre = GGUFVocabulary.llamaCppPreName(bpe) else {
                throw MVLMError(
                    .unsupported,
                    "its pre-tokenizer (\(bpe.preTokenizer.steps)\(bpe.ignoreMerges ? ", ignore_merges" : "")) has no llama.cpp name (known: Digits(individual_digits)+ByteLevel = smollm, the Llama 3 split with ignore_merges = llama-bpe, ByteLevel = gpt-2); llama.cpp's converter refuses such tokenizers too",
                    file: context + "/tokenizer.json", subject: "pre_tokenizer")
            }
            let size = vocabularySize ?? bpe.tokens.count
            guard bpe.tokens.count <= size else {
                throw MVLMError(
                    .malformed, "the tokenizer has \(bpe.tokens.count) tokens, more than config.json's vocab_size \(size)",
                    file: context + "/tokenizer.json")
            }
            var added: [String: Bool] = [:]
            for entry in tokenizerJSON?["added_tokens"] as? [[String: Any]] ?? [] {
                if let content = entry["content"] as? String { added[content] = entry["special"] as? Bool ?? false }
            }
            var tokens: [String] = []
            var types: [TypeCode] = []
            for id in 0..<size {
                guard id < bpe.tokens.count else {
                    tokens.append("[PAD\(id)]")
                    types.append(.unused)
                    continue
                }
                var token = bpe.tokens[id]
                if let special = added[token] {
                    if special || GGUFVocabulary.looksSpecial(token) {
                        types.append(.control)
                    } else {
                        token = token.replacingOccurrences(of: "\u{2581}", with: " ")
                        types.append(.userDefined)
                    }
                } else {
                    types.append(.normal)
                }
                tokens.append(token)
            }
            add("tokenizer.ggml.model", .string, .string("gpt2"))
            add("tokenizer.ggml.pre", .string, .string(pre))
            add("tokenizer.ggml.tokens", .array, .array(tokens.map { .string($0) }, elementType: "STRING"))
            add("tokenizer.ggml.token_type", .array, .array(types.map { .int($0.rawValue) }, elementType: "INT32"))
            addSpecialVocabulary(size: size, merges: try merges())
        }

        /// tokenizer.json's merges as "a b" strings (pairs joined; a space inside a part as U+0120).
        func merges() throws -> [String] {
            let list = (tokenizerJSON?["model"] as? [String: Any])?["merges"] as? [Any] ?? []
            return try list.enumerated().map { index, entry in
                if let string = entry as? String { return string }
                if let pair = entry as? [Any], pair.count == 2, let left = pair[0] as? String, let right = pair[1] as? String {
                    return [left, right].map { $0.replacingOccurrences(of: " ", with: "\u{0120}") }.joined(separator: " ")
                }
                throw MVLMError(.malformed, "merge \(index) is neither 'a b' nor [a, b]", file: context + "/tokenizer.json", subject: "model.merges")
            }
        }

        /// gguf-py's `SpecialVocab`: merges, special ids, add_*_token flags, chat template.
        mutating func addSpecialVocabulary(size: Int, merges: [String]?) {
            if let merges, !merges.isEmpty {
                add("tokenizer.ggml.merges", .array, .array(merges.map { .string($0) }, elementType: "STRING"))
            }
            let kinds = [
                ("bos", "bos_token_id"), ("eos", "eos_token_id"), ("unk", "unknown_token_id"), ("sep", "seperator_token_id"),
                ("pad", "padding_token_id"), ("cls", "cls_token_id"), ("mask", "mask_token_id"),
            ]
            var ids: [(String, Int)] = []
            func set(_ kind: String, _ id: Int?) {
                guard let id, id >= 0, id < size, !ids.contains(where: { $0.0 == kind }) else { return }
                ids.append((kind, id))
            }
            var addFlags: [(String, Bool)] = []
            func setFlag(_ kind: String, _ value: Bool, overwrite: Bool) {
                if let index = addFlags.firstIndex(where: { $0.0 == kind }) {
                    if overwrite { addFlags[index].1 = value }
                } else {
                    addFlags.append((kind, value))
                }
            }
            if let json = tokenizerJSON {
                let addedTokens = json["added_tokens"] as? [[String: Any]] ?? []
                if let processor = json["post_processor"] as? [String: Any] {
                    for step in processor["processors"] as? [[String: Any]] ?? [processor] {
                        switch step["type"] as? String {
                        case "ByteLevel":
                            setFlag("bos", false, overwrite: false)
                            setFlag("eos", false, overwrite: false)
                        case "TemplateProcessing":
                            let single = step["single"] as? [[String: Any]] ?? []
                            let first = single.first?["SpecialToken"] != nil
                            let last = single.count > 1 && single.last?["SpecialToken"] != nil
                            setFlag("bos", single.count > 1 && first, overwrite: true)
                            setFlag("eos", last, overwrite: true)
                        default: break
                        }
                    }
                }
                for (kind, _) in kinds {
                    let entry = tokenizerConfig?["\(kind)_token"]
                    guard let content = (entry as? String) ?? ((entry as? [String: Any])?["content"] as? String) else { continue }
                    set(kind, addedTokens.first { $0["content"] as? String == content }.flatMap { GGUFVocabulary.integer($0["id"]) })
                }
            }
            if let tokenizerConfig {
                for (kind, _) in kinds {
                    if let flag = tokenizerConfig["add_\(kind)_token"] as? Bool { setFlag(kind, flag, overwrite: false) }
                }
            }
            for (kind, _) in kinds { set(kind, config["\(kind)_token_id"]?.intValue) }
            for (kind, id) in ids {
                let key = kinds.first { $0.0 == kind }!.1
                add("tokenizer.ggml.\(key)", .uint32, .uint(UInt64(id)))
            }
            for (kind, flag) in addFlags where ["bos", "eos", "sep"].contains(kind) {
                add("tokenizer.ggml.add_\(kind)_token", .bool, .bool(flag))
            }
            if let template = tokenizerConfig?["chat_template"] {
                if let text = template as? String {
                    add("tokenizer.chat_template", .string, .string(text))
                } else if let list = template as? [[String: Any]] {
                    for item in list {
                        guard let name = item["name"] as? String, let text = item["template"] as? String else { continue }
                        add(name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template.\(name)", .string, .string(text))
                    }
                }
            }
        }
    }
}
