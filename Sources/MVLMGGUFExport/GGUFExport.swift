import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMGGUF
import MVLMQuant

/// `mvlm convert --format gguf`: the conversion plan's tensors written as llama.cpp GGUF files
/// instead of an `.mvlm` file, through the same streaming converter (`ModelConverter.stream`
/// into `GGUFTensorSink`).
///
/// - The language model becomes a `llama` GGUF: names as `convert_hf_to_gguf.py` writes them
///   (`GGUFNaming`), Q/K rows permuted as its `LlamaModel.permute` does (`HeadRowPermutation`; not
///   for sources already in GGUF order), metadata from config.json as its `LlamaModel` writes it
///   (`GGUFExport+Metadata.swift`) and the vocabulary as its `set_vocab` writes it
///   (`GGUFVocabulary`). A GGUF source keeps its own metadata.
/// - A MobileVLM checkpoint (`model_type` "mobilevlm", `mm_projector_type` "ldpnet" or "ldpnetv2")
///   also gives the vision-projector GGUF llama.cpp's mtmd loads (`clip.projector_type` "ldp" /
///   "ldpv2"): the CLIP tower up to the layer `mm_vision_select_layer` selects and the projector.
///
/// Every tensor keeps the type the plan chose; each must be a ggml type. The toolkit's own schemes
/// (INT8_B32, AFFINE4_G*) are refused, naming the tensor, before anything is written.
public struct GGUFExport: Sendable {
    /// Where the vocabulary comes from.
    public enum TokenizerInput: Sendable {
        /// A model folder's tokenizer files (`tokenizer.model`, `tokenizer.json`, `tokenizer_config.json`).
        case files([String: [UInt8]], origin: String)
        /// GGUF `tokenizer.*` metadata (a GGUF source, or an .mvlm file that carries one).
        case ggufMetadata([String: MetadataValue])
        /// No vocabulary: llama.cpp cannot load such a file, so `make` refuses it.
        case none
    }

    /// One output file: its metadata, its tensor table and which plan decisions fill it.
    public struct Part: Sendable {
        public var metadata: [GGUFMetadataEntry]
        public var tensors: [GGUFWriter.Tensor]
        public var decisions: [TensorDecision]
        public var routes: [String: GGUFTensorSink.Route]
        /// Source tensors the file leaves out, and why.
        public var dropped: [ConversionPlan.Dropped]
    }

    public var converter: ModelConverter
    /// The language-model GGUF.
    public var languageModel: Part
    /// The vision-projector GGUF (mmproj), for MobileVLM checkpoints.
    public var visionProjector: Part?

    /// Plans both files from a checkpoint and its conversion plan (which must be unfused:
    /// `ConversionPlan.make(..., fuse: false)`).
    /// - Parameter resolvedConfig: the config with the vision tower's configuration resolved
    ///   (`vision_config`, `preprocessor_config`, as `VisionTowerResolver` completes it), if known;
    ///   the mmproj takes its hyperparameters from it. The language model's keys always come from
    ///   the checkpoint's own config.json, as llama.cpp's converter reads it.
    /// - Throws: `MVLMError` naming the tensor or config field: a type GGUF lacks, a fused tensor,
    ///   a tensor llama.cpp has no name for, a missing hyperparameter, no vocabulary.
    public static func make(
        converter: ModelConverter, tokenizer: TokenizerInput, resolvedConfig: [String: MetadataValue]? = nil
    ) throws -> GGUFExport {
        let checkpoint = converter.checkpoint
        let plan = converter.plan
        let config = checkpoint.config
        for decision in plan.decisions {
            if decision.sourceNames.count > 1 || decision.name.contains("qkv_proj") || decision.name.contains("gate_up_proj") {
                throw MVLMError(
                    .unsupported,
                    "is a fused tensor; GGUF keeps projections apart: convert from the original checkpoint (or an .mvlm written with --no-fuse)",
                    file: checkpoint.path, subject: "tensor '\(decision.name)'")
            }
            guard GGUFWriter.ggmlTypeID(of: decision.outputDType) != nil else {
                throw MVLMError(
                    .unsupported,
                    "\(decision.outputDType) has no ggml type, so llama.cpp cannot read it; choose a GGUF type for it (--override '\(decision.name)=Q8_0', or Q4_0, Q4_1, Q5_0, IQ4_NL, Q4_K, Q6_K, F16) or a GGUF preset (--quant q8_0, q4_0, q4_k_m)",
                    file: checkpoint.path, subject: "tensor '\(decision.name)'")
            }
        }
        let isMobileVLM = config["model_type"]?.stringValue == "mobilevlm" || config["mm_projector_type"] != nil
        let visionDecisions = plan.decisions.filter { $0.role == .visionTower || $0.role == .projector }
        let languageDecisions = plan.decisions.filter { $0.role != .visionTower && $0.role != .projector }
        var languageModel = try languageModelPart(converter: converter, decisions: languageDecisions, tokenizer: tokenizer)
        languageModel.dropped += plan.dropped
        var projector: Part?
        if isMobileVLM {
            projector = try visionProjectorPart(
                checkpoint: checkpoint, config: resolvedConfig ?? config, decisions: visionDecisions)
        } else if let stray = visionDecisions.first {
            throw MVLMError(
                .unsupported,
                "is a vision tensor, but config.json does not describe a MobileVLM (model_type 'mobilevlm' with mm_projector_type 'ldpnet' or 'ldpnetv2'), the one vision model GGUF export knows",
                file: checkpoint.path, subject: "tensor '\(stray.name)'")
        }
        return GGUFExport(converter: converter, languageModel: languageModel, visionProjector: projector)
    }

    /// Writes the language-model GGUF to `path` and, when there is one, the mmproj to `projectorPath`.
    /// Each file appears only when complete.
    /// - Parameter progress: (bytes converted, total bytes) across both files.
    @discardableResult
    public func write(to path: String, projectorPath: String?, progress: (Int, Int) -> Void = { _, _ in }) throws -> [String] {
        var parts = [(languageModel, path)]
        if let visionProjector {
            guard let projectorPath else {
                throw MVLMError(.invalidArgument, "a MobileVLM checkpoint needs a path for its vision-projector GGUF (--mmproj)")
            }
            parts.append((visionProjector, projectorPath))
        }
        let total = parts.reduce(0) { $0 + $1.0.decisions.reduce(0) { $0 + $1.bytes } }
        var done = 0
        var writers: [GGUFWriter] = []
        for (part, file) in parts {
            let writer = try GGUFWriter(path: file, metadata: part.metadata, tensors: part.tensors)
            let sink = GGUFTensorSink(writer: writer, routes: part.routes)
            let before = done
            try converter.stream(part.decisions, into: sink) { written, _ in
                done = before + written
                progress(done, total)
            }
            writers.append(writer)
        }
        // Publish only when every file is complete.
        for writer in writers { try writer.finish() }
        return parts.map(\.1)
    }

    /// The plan's decisions in a GGUF file's table, renamed, reshaped and routed.
    static func tensorTable(
        _ decisions: [TensorDecision], name: (TensorDecision) -> String, shape: (TensorDecision) -> [Int] = \.shape,
        permutation: (TensorDecision) throws -> HeadRowPermutation? = { _ in nil }
    ) throws -> (tensors: [GGUFWriter.Tensor], routes: [String: GGUFTensorSink.Route]) {
        var tensors: [GGUFWriter.Tensor] = []
        var routes: [String: GGUFTensorSink.Route] = [:]
        for decision in decisions {
            let dtype = decision.outputDType
            let ggufName = name(decision)
            tensors.append(GGUFWriter.Tensor(name: ggufName, dtype: dtype, shape: shape(decision)))
            routes[decision.name] = GGUFTensorSink.Route(name: ggufName, permutation: try permutation(decision))
        }
        return (tensors, routes)
    }
}
