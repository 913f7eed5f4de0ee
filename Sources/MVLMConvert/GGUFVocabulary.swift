import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTokenizer

/// A model's tokenizer as GGUF `tokenizer.*` metadata, decided the way llama.cpp's converter
/// (`convert_hf_to_gguf.py`, `LlamaModel.set_vocab`, gguf-py's `SpecialVocab`) decides it, so that
/// llama.cpp tokenizes exactly as the source does:
///
/// - `tokenizer.model` (SentencePiece, tried first): `tokenizer.ggml.model` "llama", `pre` "default",
///   every piece with its score and type (unknown 2, control 3, unused 5, byte 6, everything else
///   normal 1, as the converter asks sentencepiece), ids up to config.json's `vocab_size` padded
///   with `[PADi]` (score -10000, unused); `tokenizer_config.json`'s `added_tokens_decoder` entries
///   overwrite their ids (control when special or spelled like `<|...|>`, else user-defined; score
///   -1000).
/// - `tokenizer.json` (byte-level BPE): model "gpt2", tokens by id up to `vocab_size` (`[PADi]`
///   unused for gaps), types normal / control (special added tokens, or spelled like `<|...|>`) /
///   user-defined (other added tokens), merges as "a b" strings (pair lists joined, a space inside
///   a part written as U+0120), and `tokenizer.ggml.pre` named from the pre-tokenizer's structure
///   (the converter hashes the ids of a probe text against known models; the structure is what
///   that name stands for in llama.cpp): Digits(individual) + ByteLevel → "smollm", the Llama 3
///   split → "llama-bpe", ByteLevel alone → "gpt-2".
/// - Special ids: `tokenizer_config.json`'s `bos_token`, `eos_token`, `unk_token`, `pad_token` looked
///   up among tokenizer.json's added tokens, then config.json's `*_token_id`; `add_bos_token` /
///   `add_eos_token` from tokenizer.json's post-processor, else tokenizer_config.json;
///   `chat_template`; `add_prefix_space` as `tokenizer.ggml.add_space_prefix`; and, as the converter
///   does for 49,152-token vocabularies (Granite, SmolLM2), `add_bos_token` false.
public struct GGUFVocabulary: Sendable {
    /// The `tokenizer.*` entries in the order llama.cpp's converter writes them.
    public var entries: [GGUFMetadataEntry]

    public init(entries: [GGUFMetadataEntry]) {
        self.entries = entries
    }

    /// The vocabulary of a model folder's tokenizer files.
    /// - Parameters:
    ///   - files: file name → bytes (`tokenizer.model`, `tokenizer.json`, `tokenizer_config.json`).
    ///   - config: the model's config.json (for `vocab_size` and `*_token_id`).
    ///   - context: where the files came from, for errors.
    /// - Throws: `MVLMError` when the files do not parse, or a byte-level pre-tokenizer has no
    ///   llama.cpp name.
    public init(files: [String: [UInt8]], config: [String: MetadataValue], context: String) throws {
        var builder = Builder(config: config, context: context)
        builder.tokenizerConfig = try files["tokenizer_config.json"].map { try Self.jsonObject($0, file: context + "/tokenizer_config.json") }
        builder.tokenizerJSON = try files["tokenizer.json"].map { try Self.jsonObject($0, file: context + "/tokenizer.json") }
        if let addPrefixSpace = builder.tokenizerConfig?["add_prefix_space"] as? Bool {
            builder.add("tokenizer.ggml.add_space_prefix", .bool, .bool(addPrefixSpace))
        }
        if let model = files["tokenizer.model"] {
            try builder.addSentencePiece(try SentencePieceModel(serializedModel: model, context: context + "/tokenizer.model"))
        } else if let json = files["tokenizer.json"] {
            let tokenizer = try Tokenizer(huggingFaceJSON: json, context: context + "/tokenizer.json")
            try builder.addByteLevel(tokenizer)
        } else {
            throw MVLMError(.notFound, "neither tokenizer.model nor tokenizer.json was given", file: context)
        }
        if config["vocab_size"]?.intValue == 49152 { builder.add("tokenizer.ggml.add_bos_token", .bool, .bool(false)) }
        entries = builder.entries
    }

    /// The vocabulary of GGUF `tokenizer.*` metadata, carried through unchanged. The declared types
    /// are taken from `types` (a GGUF source's own entries) or, for keys it lacks, from the types
    /// llama.cpp's writer gives them.
    public init(ggufMetadata metadata: [String: MetadataValue], types: [String: GGUFValueType] = [:]) throws {
        let order = Self.knownKeys.map(\.key)
        let keys = metadata.keys.filter { $0.hasPrefix("tokenizer.") }.sorted { a, b in
            (order.firstIndex(of: a) ?? order.count, a) < (order.firstIndex(of: b) ?? order.count, b)
        }
        entries = try keys.map { key in
            let value = metadata[key]!
            guard let type = types[key] ?? Self.knownKeys.first(where: { $0.key == key })?.type ?? Self.inferredType(value) else {
                throw MVLMError(.unsupported, "cannot tell the GGUF type of \(value.summary(maxArrayItems: 2))", subject: "key '\(key)'")
            }
            return GGUFMetadataEntry(key: key, type: type, value: value)
        }
    }

    /// The `tokenizer.*` keys llama.cpp writes for LLaMA models, in its order, with their types.
    static let knownKeys: [(key: String, type: GGUFValueType)] = [
        ("tokenizer.ggml.add_space_prefix", .bool), ("tokenizer.ggml.model", .string), ("tokenizer.ggml.pre", .string),
        ("tokenizer.ggml.tokens", .array), ("tokenizer.ggml.scores", .array), ("tokenizer.ggml.token_type", .array),
        ("tokenizer.ggml.merges", .array), ("tokenizer.ggml.bos_token_id", .uint32), ("tokenizer.ggml.eos_token_id", .uint32),
        ("tokenizer.ggml.unknown_token_id", .uint32), ("tokenizer.ggml.seperator_token_id", .uint32),
        ("tokenizer.ggml.padding_token_id", .uint32), ("tokenizer.ggml.cls_token_id", .uint32),
        ("tokenizer.ggml.mask_token_id", .uint32), ("tokenizer.ggml.add_bos_token", .bool),
        ("tokenizer.ggml.add_eos_token", .bool), ("tokenizer.ggml.add_sep_token", .bool),
        ("tokenizer.chat_template", .string),
    ]

    static func inferredType(_ value: MetadataValue) -> GGUFValueType? {
        switch value {
        case .bool: .bool
        case .int: .int32
        case .uint: .uint32
        case .float: .float32
        case .string: .string
        case .array: .array
        default: nil
        }
    }

    static func jsonObject(_ bytes: [UInt8], file: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw MVLMError(.malformed, "not a JSON object", file: file)
        }
        return object
    }

    /// The token types gguf-py writes (`gguf.TokenType`).
    enum TypeCode: Int64 {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The converter's `does_token_look_special`: tokens some models forget to mark special.
    static func looksSpecial(_ token: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(token)
            || (token.hasPrefix("<|") && token.hasSuffix("|>"))
            || (token.hasPrefix("<｜") && token.hasSuffix("｜>"))
            || (token.hasPrefix("<unused") && token.hasSuffix(">"))
    }

    /// The llama.cpp `tokenizer.ggml.pre` name of a byte-level pre-tokenizer, or nil.
    static func llamaCppPreName(_ bpe: ByteLevelBPE) -> String? {
        guard !bpe.preTokenizer.addPrefixSpace else { return nil }
        switch bpe.preTokenizer.steps {
        case [.isolateNumbers(individually: true), .gpt2]: return bpe.ignoreMerges ? nil : "smollm"
        case [.llama3]: return bpe.ignoreMerges ? "llama-bpe" : nil
        case [.gpt2]: return bpe.ignoreMerges ? nil : "gpt-2"
        default: return nil
        }
    }
}

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

    static func integer(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) { return exact }
        return nil
    }
}
