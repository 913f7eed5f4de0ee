import MVLMCore
import MVLMModelFile

/// The model architectures `inspect` recognizes, and how it recognized them.
public struct Architecture: Sendable, Hashable, Codable {
    /// A recognized family.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// LLaMA and MobileLLaMA language models (`LlamaForCausalLM`, GGUF `llama`).
        case llama
        /// A CLIP vision tower (`CLIPVisionModel`, or the vision half of `CLIPModel`).
        case clipVision = "clip-vision"
        /// MobileVLM V1: MobileLLaMA + CLIP + LDP projector (`mm_projector_type` "ldpnet").
        case mobileVLMV1 = "mobilevlm-v1"
        /// MobileVLM V2: MobileLLaMA + CLIP + LDPv2 projector (`mm_projector_type` "ldpnetv2").
        case mobileVLMV2 = "mobilevlm-v2"
        case unknown
    }

    public var kind: Kind
    /// What the decision rests on, e.g. `config.json mm_projector_type = "ldpnetv2"`.
    public var evidence: String
    /// config.json's `model_type` (or GGUF `general.architecture`) when present.
    public var modelType: String?

    public init(kind: Kind, evidence: String, modelType: String?) {
        self.kind = kind
        self.evidence = evidence
        self.modelType = modelType
    }

    /// Recognizes the architecture from config.json, format metadata and tensor names, in that order
    /// of trust.
    public static func recognize(
        config: [String: MetadataValue], metadata: [String: MetadataValue], tensorNames: [String]
    ) -> Architecture {
        let modelType = config["model_type"]?.stringValue
        let architectures = config["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let ggufArchitecture = metadata["general.architecture"]?.stringValue
        let reportedType = modelType ?? ggufArchitecture

        if let projector = config["mm_projector_type"]?.stringValue {
            switch projector {
            case "ldpnet": return .init(kind: .mobileVLMV1, evidence: "config.json mm_projector_type = \"ldpnet\"", modelType: reportedType)
            case "ldpnetv2": return .init(kind: .mobileVLMV2, evidence: "config.json mm_projector_type = \"ldpnetv2\"", modelType: reportedType)
            default:
                return .init(kind: .unknown, evidence: "config.json mm_projector_type = \"\(projector)\" is not a MobileVLM projector", modelType: reportedType)
            }
        }
        if let modelType {
            switch modelType {
            case "llama":
                return .init(kind: .llama, evidence: "config.json model_type = \"llama\"", modelType: modelType)
            case "clip_vision_model", "clip":
                return .init(kind: .clipVision, evidence: "config.json model_type = \"\(modelType)\"", modelType: modelType)
            case "mobilevlm":
                if let kind = projectorKind(tensorNames) {
                    return .init(kind: kind, evidence: "config.json model_type = \"mobilevlm\" and projector tensor names", modelType: modelType)
                }
            default: break
            }
        }
        if architectures.contains("LlamaForCausalLM") || architectures.contains("MobileLlamaForCausalLM") {
            return .init(kind: .llama, evidence: "config.json architectures = \(architectures)", modelType: reportedType)
        }
        if let ggufArchitecture {
            switch ggufArchitecture {
            case "llama": return .init(kind: .llama, evidence: "GGUF general.architecture = \"llama\"", modelType: ggufArchitecture)
            case "clip": return .init(kind: .clipVision, evidence: "GGUF general.architecture = \"clip\"", modelType: ggufArchitecture)
            default: break
            }
        }
        // No config: tensor names.
        let names = Set(tensorNames)
        if let kind = projectorKind(tensorNames) {
            return .init(kind: kind, evidence: "tensor names (model.mm_projector.*)", modelType: reportedType)
        }
        if names.contains("model.embed_tokens.weight"),
            names.contains("model.layers.0.self_attn.q_proj.weight"),
            names.contains("model.layers.0.mlp.gate_proj.weight")
        {
            return .init(kind: .llama, evidence: "tensor names (model.layers.*.self_attn.q_proj, mlp.gate_proj)", modelType: reportedType)
        }
        if names.contains("token_embd.weight"), names.contains("blk.0.attn_q.weight"), names.contains("blk.0.ffn_gate.weight") {
            return .init(kind: .llama, evidence: "GGUF tensor names (blk.*.attn_q, ffn_gate)", modelType: reportedType)
        }
        if tensorNames.contains(where: { $0.contains("vision_model.encoder.layers.") }),
            tensorNames.contains(where: { $0.hasSuffix("vision_model.embeddings.patch_embedding.weight") })
        {
            return .init(kind: .clipVision, evidence: "tensor names (vision_model.encoder.layers.*)", modelType: reportedType)
        }
        let because = reportedType.map { "model type \"\($0)\" is not one of llama, clip, mobilevlm" }
            ?? "no config.json model_type and no known tensor names"
        return .init(kind: .unknown, evidence: because, modelType: reportedType)
    }

    /// MobileVLM's projector from its tensor names: LDP (V1) has `mb_block`, LDPv2 has `peg`.
    static func projectorKind(_ names: [String]) -> Kind? {
        let projector = names.filter { $0.contains("mm_projector.") }
        guard !projector.isEmpty else { return nil }
        if projector.contains(where: { $0.contains(".peg.") }) { return .mobileVLMV2 }
        if projector.contains(where: { $0.contains(".mb_block.") }) { return .mobileVLMV1 }
        return nil
    }
}

extension Checkpoint {
    /// The architecture recognized from this checkpoint's config, metadata and tensor names.
    public var architecture: Architecture {
        if let modelFile = reader as? ModelFileReader,
            let kind = Architecture.Kind(rawValue: modelFile.manifest.architecture)
        {
            return Architecture(kind: kind, evidence: ".mvlm manifest", modelType: config["model_type"]?.stringValue)
        }
        return Architecture.recognize(config: config, metadata: reader.metadata, tensorNames: reader.tensorInfos.map(\.name))
    }
}
