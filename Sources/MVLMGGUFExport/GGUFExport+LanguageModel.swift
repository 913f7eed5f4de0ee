import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMGGUF

extension GGUFExport {
    /// The `llama` GGUF of the language-model decisions.
    static func languageModelPart(
        converter: ModelConverter, decisions: [TensorDecision], tokenizer: TokenizerInput
    ) throws -> Part {
        let checkpoint = converter.checkpoint
        let config = checkpoint.config
        let sourceGGUF = checkpoint.reader as? GGUFReader
        let heads = config["num_attention_heads"]?.intValue ?? sourceGGUF?.integer(forKey: "llama.attention.head_count")
        let kvHeads = config["num_key_value_heads"]?.intValue ?? sourceGGUF?.integer(forKey: "llama.attention.head_count_kv") ?? heads
        var kept: [TensorDecision] = []
        var dropped: [ConversionPlan.Dropped] = []
        for decision in decisions {
            guard GGUFNaming.languageModelName(decision.name) != nil else {
                if decision.role == .other, decision.shape.count <= 1, !decision.name.contains("layers.") {
                    dropped.append(.init(name: decision.name, reason: "llama.cpp's llama architecture has no such tensor"))
                    continue
                }
                throw MVLMError(
                    .unsupported, "llama.cpp's llama architecture has no tensor for it (GGUF export supports LLaMA-family models)",
                    file: checkpoint.path, subject: "tensor '\(decision.name)'")
            }
            if decision.shape.count <= 1, decision.outputDType != .float32 {
                throw MVLMError(
                    .unsupported, "is a vector stored as \(decision.outputDType); GGUF norms and biases are F32 (as llama.cpp's converter writes them): drop the override that changes it",
                    file: checkpoint.path, subject: "tensor '\(decision.name)'")
            }
            kept.append(decision)
        }
        let table = try tensorTable(kept, name: { GGUFNaming.languageModelName($0.name)! }, permutation: { decision in
            guard let projection = GGUFNaming.permutedProjection(decision.name) else { return nil }
            let count = projection == .query ? heads : kvHeads
            guard let count, let permutation = HeadRowPermutation(rows: decision.shape[0], heads: count) else {
                throw MVLMError(
                    .malformed, "its \(decision.shape[0]) rows do not split into \(count.map(String.init) ?? "?") heads of an even size (num_attention_heads / num_key_value_heads in config.json)",
                    file: checkpoint.path, subject: "tensor '\(decision.name)'")
            }
            return permutation
        })
        guard !table.tensors.isEmpty else {
            throw MVLMError(.notFound, "no language-model tensors to write", file: checkpoint.path)
        }
        var metadata: [GGUFMetadataEntry]
        if let sourceGGUF {
            metadata = sourceGGUF.metadataEntries.filter {
                !$0.key.hasPrefix("tokenizer.") && !["general.file_type", "general.quantization_version", "general.alignment"].contains($0.key)
            }
            metadata.append(GGUFMetadataEntry(key: "general.file_type", type: .uint32, value: .uint(UInt64(fileType(of: kept, plan: converter.plan)))))
            metadata.append(GGUFMetadataEntry(key: "general.quantization_version", type: .uint32, value: .uint(2)))
        } else {
            metadata = try languageModelMetadata(config: config, source: checkpoint.path, tensors: kept, plan: converter.plan)
        }
        let vocabulary: GGUFVocabulary
        switch tokenizer {
        case .files(let files, let origin):
            vocabulary = try GGUFVocabulary(files: files, config: config, context: origin)
        case .ggufMetadata(let keys):
            var types: [String: GGUFValueType] = [:]
            for entry in sourceGGUF?.metadataEntries ?? [] { types[entry.key] = entry.type }
            vocabulary = try GGUFVocabulary(ggufMetadata: keys, types: types)
        case .none:
            throw MVLMError(
                .notFound,
                "has no tokenizer (no tokenizer.model or tokenizer.json beside it, no vocabulary in its metadata); llama.cpp cannot load a GGUF without one: pass --tokenizer PATH",
                file: checkpoint.path)
        }
        metadata += vocabulary.entries
        return Part(metadata: metadata, tensors: table.tensors, decisions: kept, routes: table.routes, dropped: dropped)
    }

    /// The general and `llama.*` keys `convert_hf_to_gguf.py`'s `LlamaModel` writes for `config`.
    static func languageModelMetadata(
        config raw: [String: MetadataValue], source: String, tensors: [TensorDecision], plan: ConversionPlan
    ) throws -> [GGUFMetadataEntry] {
        let config = withTransformersDefaults(raw)
        func required(_ key: String) throws -> Int {
            guard let value = config[key]?.intValue, value > 0 else {
                throw MVLMError(.notFound, "missing or not a positive integer", file: source, subject: "config.json field '\(key)'")
            }
            return value
        }
        var entries: [GGUFMetadataEntry] = []
        func add(_ key: String, _ type: GGUFValueType, _ value: MetadataValue) {
            entries.append(GGUFMetadataEntry(key: key, type: type, value: value))
        }
        func count(_ value: Int) -> MetadataValue { .uint(UInt64(value)) }
        let parameters = tensors.reduce(0) { $0 + $1.elementCount }
        add("general.architecture", .string, .string("llama"))
        add("general.type", .string, .string("model"))
        add("general.name", .string, .string(modelName(config: config, source: source)))
        add("general.size_label", .string, .string(sizeLabel(parameters: parameters)))
        let hidden = try required("hidden_size")
        let heads = try required("num_attention_heads")
        add("llama.block_count", .uint32, count(try required("num_hidden_layers")))
        if let context = config["max_position_embeddings"]?.intValue { add("llama.context_length", .uint32, count(context)) }
        add("llama.embedding_length", .uint32, count(hidden))
        add("llama.feed_forward_length", .uint32, count(try required("intermediate_size")))
        add("llama.attention.head_count", .uint32, count(heads))
        if let kvHeads = config["num_key_value_heads"]?.intValue { add("llama.attention.head_count_kv", .uint32, count(kvHeads)) }
        let rope = config["rope_parameters"] ?? config["rope_scaling"] ?? .null
        let ropeType = rope["rope_type"]?.stringValue ?? rope["type"]?.stringValue
        switch ropeType {
        case nil, "default":
            break
        case "linear":
            guard let factor = rope["factor"]?.doubleValue else {
                throw MVLMError(.notFound, "linear RoPE scaling without a factor", file: source, subject: "config.json field 'rope_scaling'")
            }
            add("llama.rope.scaling.type", .string, .string("linear"))
            add("llama.rope.scaling.factor", .float32, .float(factor))
        default:
            throw MVLMError(
                .unsupported, "RoPE scaling '\(ropeType!)' is not supported by GGUF export yet (supported: none, linear)",
                file: source, subject: "config.json field 'rope_scaling'")
        }
        if let theta = rope["rope_theta"]?.doubleValue ?? config["rope_theta"]?.doubleValue {
            add("llama.rope.freq_base", .float32, .float(theta))
        }
        if let epsilon = config["rms_norm_eps"]?.doubleValue { add("llama.attention.layer_norm_rms_epsilon", .float32, .float(epsilon)) }
        if let headDimension = config["head_dim"]?.intValue {
            add("llama.attention.key_length", .uint32, count(headDimension))
            add("llama.attention.value_length", .uint32, count(headDimension))
        }
        add("general.file_type", .uint32, count(fileType(of: tensors, plan: plan)))
        add("llama.vocab_size", .uint32, count(try required("vocab_size")))
        add("llama.rope.dimension_count", .uint32, count(config["head_dim"]?.intValue ?? hidden / heads))
        add("general.quantization_version", .uint32, .uint(2))
        return entries
    }

    /// The config as llama.cpp's converter sees it: it loads config.json through transformers'
    /// `AutoConfig`, so for `model_type` "llama" every field `LlamaConfig` defaults is present
    /// (`head_dim` = hidden / heads, which makes it write `llama.attention.key_length` /
    /// `value_length`; `num_key_value_heads` = heads; context 2048; RMS epsilon 1e-6; RoPE base
    /// 10000; vocabulary 32000). Other model types (MobileVLM's "mobilevlm", which transformers
    /// does not know) are read as written.
    static func withTransformersDefaults(_ config: [String: MetadataValue]) -> [String: MetadataValue] {
        guard config["model_type"]?.stringValue == "llama" else { return config }
        var config = config
        func fill(_ key: String, _ value: MetadataValue) { if config[key] == nil || config[key] == .null { config[key] = value } }
        fill("vocab_size", .int(32000))
        fill("max_position_embeddings", .int(2048))
        fill("rms_norm_eps", .float(1e-6))
        if config["rope_theta"] == nil, config["rope_parameters"]?["rope_theta"] == nil { config["rope_theta"] = .float(10000) }
        if let heads = config["num_attention_heads"]?.intValue, heads > 0 {
            fill("num_key_value_heads", .int(Int64(heads)))
            if let hidden = config["hidden_size"]?.intValue { fill("head_dim", .int(Int64(hidden / heads))) }
        }
        return config
    }

    /// `general.file_type` (llama.cpp's `llama_ftype`): the preset's, as llama-quantize writes the
    /// type it was asked for (f16 1, q8_0 7, q4_0 2, iq4_nl 25, q4_k_m and default 15 = Q4_K_M, even where
    /// rows took fallbacks); with overrides, the type holding most matrix weights.
    static func fileType(of decisions: [TensorDecision], plan: ConversionPlan) -> Int {
        if plan.overrides.isEmpty {
            switch plan.preset {
            case .f16: return 1
            case .q8_0: return 7
            case .q4_0: return 2
            case .iq4_nl: return 25
            case .q4_k_m, .default: return 15
            }
        }
        return fileType(of: decisions)
    }

    /// The `llama_ftype` of the type holding most matrix weights: F32 0, F16 1, Q4_0 2, Q4_1 3,
    /// Q8_0 7, Q5_0 8, Q5_1 9, Q2_K 10, Q3_K 12, Q4_K 15 (Q4_K_M), Q5_K 17 (Q5_K_M), Q6_K 18, IQ4_NL 25, BF16 32.
    static func fileType(of decisions: [TensorDecision]) -> Int {
        var weights: [String: Int] = [:]
        for decision in decisions where decision.shape.count >= 2 { weights[decision.outputDType.name, default: 0] += decision.elementCount }
        let dominant = weights.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "F32"
        let table = [
            "F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K": 12, "Q4_K": 15,
            "Q5_K": 17, "Q6_K": 18, "IQ4_NL": 25, "BF16": 32,
        ]
        return table[dominant] ?? 1
    }

    /// `general.name` as gguf-py's metadata heuristics give it for a folder without a model card:
    /// the folder's (or config.json `_name_or_path`'s last) name in title form (`llama_bpe` →
    /// `Llama_Bpe`, `smollm2-float` → `Smollm2 Float`).
    static func modelName(config: [String: MetadataValue], source: String) -> String {
        var path = (source as NSString).standardizingPath
        if let named = config["_name_or_path"]?.stringValue, !named.isEmpty { path = named }
        var isDirectory: ObjCBool = false
        if config["_name_or_path"] == nil, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            path = (path as NSString).deletingLastPathComponent
        }
        let base = (path as NSString).lastPathComponent
        return base.replacingOccurrences(of: "-", with: " ").split(separator: " ").map { word -> String in
            let text = String(word)
            let isVersion = text.first.map { $0.isNumber } == true
                || (text.hasPrefix("v") && text.dropFirst().first?.isNumber == true && text.dropFirst().allSatisfy { $0.isNumber || $0 == "." })
            return text == text.lowercased() && !isVersion ? Self.titleCased(text) : text
        }.joined(separator: " ")
    }

    /// Python's `str.title()`: a letter after a non-letter is upper-cased, other letters lower-cased.
    static func titleCased(_ text: String) -> String {
        var result = ""
        var previousIsLetter = false
        for character in text {
            result += previousIsLetter ? character.lowercased() : character.uppercased()
            previousIsLetter = character.isLetter
        }
        return result
    }

    /// gguf-py's `model_weight_count_rounded_notation`: `115K`, `135M`, `1.4B`.
    static func sizeLabel(parameters: Int) -> String {
        let count = Double(parameters)
        let (scaled, suffix): (Double, String) =
            count > 1e12 ? (count * 1e-12, "T") : count > 1e9 ? (count * 1e-9, "B") : count > 1e6 ? (count * 1e-6, "M") : (count * 1e-3, "K")
        let digits = String(Int(scaled.rounded(.toNearestOrEven))).drop { $0 == "0" }.count
        return String(format: "%.\(max(2 - digits, 0))f", scaled) + suffix
    }
}
