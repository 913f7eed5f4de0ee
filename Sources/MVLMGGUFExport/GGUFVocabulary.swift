import Foundation
import MVLMConvert
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
        // chat_template.jinja / chat_template.json win over tokenizer_config.json, as in transformers.
        let templates = try Tokenizer.chatTemplates(files: files, context: context)
        if let template = templates.defaultTemplate { builder.add("tokenizer.chat_template", .string, .string(template)) }
        for (name, template) in templates.named.sorted(by: { $0.key < $1.key }) {
            builder.add("tokenizer.chat_template.\(name)", .string, .string(template))
        }
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
    static func integer(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) { return exact }
        return nil
    }
}
