import Foundation
import MVLMCore

extension Tokenizer {
    /// A byte-level BPE tokenizer from the contents of a Hugging Face `tokenizer.json`.
    ///
    /// Supported: `model.type` "BPE" without byte fallback (`vocab`, `merges` as "a b" strings or
    /// `[a, b]` pairs, `ignore_merges`), no normalizer, a pre-tokenizer made of `ByteLevel`
    /// (`add_prefix_space`, `use_regex`), `Digits` (`individual_digits`) and `Split` with the
    /// GPT-2 or Llama 3 regex or `\p{N}` (behavior Isolated), alone or in a `Sequence`; and
    /// `added_tokens` (content, id, special).
    ///
    /// - Parameters:
    ///   - json: the bytes of `tokenizer.json`.
    ///   - config: the parsed `tokenizer_config.json`, if any (add_bos_token, add_eos_token,
    ///     bos/eos/unk/pad tokens, chat_template).
    ///   - context: the file name, for error messages.
    /// - Throws: `MVLMError` (`.malformed`, `.unsupported`) naming the field.
    public init(huggingFaceJSON json: [UInt8], config: [String: Any]? = nil, context: String = "tokenizer.json") throws {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
                throw MVLMError(.malformed, "the top level is not a JSON object", file: context)
            }
            root = object
        } catch let error as MVLMError {
            throw error
        } catch {
            throw MVLMError(.malformed, "not valid JSON (\(error.localizedDescription))", file: context)
        }
        func fail(_ code: MVLMError.Code, _ message: String, _ field: String) -> MVLMError {
            MVLMError(code, message, file: context, subject: field)
        }
        guard let modelObject = root["model"] as? [String: Any] else {
            throw fail(.malformed, "missing or not an object", "model")
        }
        let modelType = modelObject["type"] as? String ?? "BPE"
        guard modelType == "BPE" else {
            throw fail(.unsupported, "model type '\(modelType)' is not supported; only byte-level BPE (use tokenizer.model for SentencePiece models)", "model.type")
        }
        if modelObject["byte_fallback"] as? Bool == true {
            throw fail(.unsupported, "a BPE model with byte_fallback (SentencePiece-style) is not supported from tokenizer.json; use tokenizer.model", "model.byte_fallback")
        }
        if let normalizer = root["normalizer"], !(normalizer is NSNull) {
            throw fail(.unsupported, "normalizers are not supported (found \(Self.typeName(normalizer)))", "normalizer")
        }
        guard let vocabulary = modelObject["vocab"] as? [String: Any] else {
            throw fail(.malformed, "missing or not an object", "model.vocab")
        }

        var addedEntries: [(content: String, id: Int, special: Bool)] = []
        if let list = root["added_tokens"] {
            guard let array = list as? [[String: Any]] else { throw fail(.malformed, "not a list of objects", "added_tokens") }
            for (index, entry) in array.enumerated() {
                guard let content = entry["content"] as? String, let id = Self.integer(entry["id"]) else {
                    throw fail(.malformed, "entry \(index) needs 'content' and 'id'", "added_tokens")
                }
                addedEntries.append((content, id, entry["special"] as? Bool ?? false))
            }
        }

        // Ids run from 0 without gaps, so none can reach the number of entries: checking that
        // first keeps a hostile id from sizing the table.
        let limit = vocabulary.count + addedEntries.count
        var count = 0
        var pairs: [(Int, String)] = []
        pairs.reserveCapacity(vocabulary.count)
        for (token, value) in vocabulary {
            guard let id = Self.integer(value), id >= 0, id < limit else {
                throw fail(.malformed, "token '\(token)' has id \(value), not an integer in 0..<\(limit)", "model.vocab")
            }
            pairs.append((id, token))
            count = max(count, id + 1)
        }
        for entry in addedEntries {
            guard entry.id >= 0, entry.id < limit else {
                throw fail(.malformed, "added token '\(entry.content)' has id \(entry.id), not in 0..<\(limit)", "added_tokens")
            }
            count = max(count, entry.id + 1)
        }
        var tokens = [String?](repeating: nil, count: count)
        for (id, token) in pairs {
            if tokens[id] != nil { throw fail(.malformed, "id \(id) is given to two tokens", "model.vocab") }
            tokens[id] = token
        }
        for entry in addedEntries where tokens[entry.id] == nil { tokens[entry.id] = entry.content }
        if let gap = tokens.firstIndex(where: { $0 == nil }) {
            throw fail(.malformed, "no token has id \(gap) (ids must run from 0 without gaps)", "model.vocab")
        }
        let merges = try Self.merges(modelObject["merges"], fail: fail)
        let preTokenizer = try Self.preTokenizer(root["pre_tokenizer"], fail: fail)
        let unknown = (modelObject["unk_token"] as? String).flatMap { name in vocabulary[name].flatMap(Self.integer) }
        let bpe = try ByteLevelBPE(
            tokens: tokens.map { $0! }, merges: merges, preTokenizer: preTokenizer,
            ignoreMerges: modelObject["ignore_merges"] as? Bool ?? false, unknownID: unknown, context: context)
        let added = addedEntries.map { AddedToken(content: $0.content, id: $0.id, isSpecial: $0.special) }
        let ids = Dictionary(pairs.map { ($0.1, $0.0) }, uniquingKeysWith: { first, _ in first })
            .merging(addedEntries.map { ($0.content, $0.id) }, uniquingKeysWith: { _, added in added })
        func configToken(_ name: String) -> Int? {
            guard let value = config?[name] else { return nil }
            let content = (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
            return content.flatMap { ids[$0] }
        }
        var addBOS = config?["add_bos_token"] as? Bool
        let bos = configToken("bos_token")
        if addBOS == nil, let bos, Self.postProcessorStarts(with: bos, root["post_processor"], ids: ids) { addBOS = true }
        try self.init(
            model: .byteLevelBPE(bpe), addedTokens: added, bosID: bos, eosID: configToken("eos_token"),
            unknownID: configToken("unk_token") ?? unknown, paddingID: configToken("pad_token"),
            addBOS: addBOS ?? false, addEOS: config?["add_eos_token"] as? Bool ?? false,
            chatTemplate: Self.chatTemplate(config?["chat_template"]), context: context)
    }

    static func integer(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) { return exact }
        return nil
    }

    static func typeName(_ value: Any) -> String {
        ((value as? [String: Any])?["type"] as? String).map { "'\($0)'" } ?? "a value"
    }

    static func chatTemplate(_ value: Any?) -> String? {
        if let template = value as? String { return template }
        // A list of named templates: the one named "default", else the first.
        if let list = value as? [[String: Any]] {
            let chosen = list.first { $0["name"] as? String == "default" } ?? list.first
            return chosen?["template"] as? String
        }
        return nil
    }

    private static func merges(
        _ value: Any?, fail: (MVLMError.Code, String, String) -> MVLMError
    ) throws -> [(String, String)] {
        guard let list = value as? [Any] else { throw fail(.malformed, "missing or not a list", "model.merges") }
        return try list.enumerated().map { index, entry in
            if let pair = entry as? [Any], pair.count == 2, let left = pair[0] as? String, let right = pair[1] as? String {
                return (left, right)
            }
            if let string = entry as? String {
                let utf8 = Array(string.utf8)
                if utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20) {
                    return (String(decoding: utf8[..<space], as: UTF8.self), String(decoding: utf8[(space + 1)...], as: UTF8.self))
                }
            }
            throw fail(.malformed, "merge \(index) is neither 'a b' nor [a, b]", "model.merges")
        }
    }

    static let gpt2Patterns: Set<String> = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#,
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#,
    ]
    static let llama3Patterns: Set<String> = [
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
        #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
    ]

    private static func preTokenizer(
        _ value: Any?, fail: (MVLMError.Code, String, String) -> MVLMError
    ) throws -> PreTokenizer {
        var result = PreTokenizer(steps: [])
        var hasByteLevel = false
        func add(_ value: Any, path: String) throws {
            guard let object = value as? [String: Any], let type = object["type"] as? String else {
                throw fail(.malformed, "not an object with a 'type'", path)
            }
            switch type {
            case "Sequence":
                guard let list = object["pretokenizers"] as? [Any] else { throw fail(.malformed, "no 'pretokenizers' list", path) }
                for (index, item) in list.enumerated() { try add(item, path: "\(path).pretokenizers[\(index)]") }
            case "ByteLevel":
                hasByteLevel = true
                if object["add_prefix_space"] as? Bool == true {
                    // Hugging Face prefixes every piece the earlier steps made; only the text as a
                    // whole is supported.
                    guard result.steps.isEmpty else {
                        throw fail(.unsupported, "ByteLevel add_prefix_space after another pre-tokenizer is not supported", path)
                    }
                    result.addPrefixSpace = true
                }
                if object["use_regex"] as? Bool ?? true { result.steps.append(.gpt2) }
            case "Digits":
                result.steps.append(.isolateNumbers(individually: object["individual_digits"] as? Bool ?? false))
            case "Split":
                let patternObject = object["pattern"] as? [String: Any]
                guard let pattern = patternObject?["Regex"] as? String else {
                    throw fail(.unsupported, "Split needs a Regex pattern (literal String patterns are not supported)", path)
                }
                let behavior = object["behavior"] as? String ?? "Isolated"
                guard behavior == "Isolated", object["invert"] as? Bool != true else {
                    throw fail(.unsupported, "Split behavior '\(behavior)' (or invert) is not supported; only Isolated", path)
                }
                if gpt2Patterns.contains(pattern) {
                    result.steps.append(.gpt2)
                } else if llama3Patterns.contains(pattern) {
                    result.steps.append(.llama3)
                } else if pattern == #"\p{N}"# {
                    result.steps.append(.isolateNumbers(individually: true))
                } else {
                    throw fail(.unsupported, "Split pattern \(pattern) is not one of the supported regexes (GPT-2, Llama 3, \\p{N})", path)
                }
            default:
                throw fail(.unsupported, "pre-tokenizer '\(type)' is not supported (ByteLevel, Digits, Split, Sequence)", path)
            }
        }
        if let value, !(value is NSNull) { try add(value, path: "pre_tokenizer") }
        guard hasByteLevel else {
            throw fail(.unsupported, "the pre-tokenizer has no ByteLevel step; only byte-level BPE is supported", "pre_tokenizer")
        }
        return result
    }

    /// Whether a TemplateProcessing post-processor puts the token `id` first in a single sequence.
    private static func postProcessorStarts(with id: Int, _ value: Any?, ids: [String: Int]) -> Bool {
        guard let object = value as? [String: Any] else { return false }
        if object["type"] as? String == "Sequence", let list = object["processors"] as? [Any] {
            return list.contains { postProcessorStarts(with: id, $0, ids: ids) }
        }
        guard object["type"] as? String == "TemplateProcessing", let single = object["single"] as? [[String: Any]],
            let first = single.first?["SpecialToken"] as? [String: Any], let name = first["id"] as? String
        else { return false }
        return ids[name] == id
    }
}
