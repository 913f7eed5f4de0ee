import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMQuant

/// Every decision the converter will take, computed from headers alone (`convert --dry-run`).
public struct ConversionPlan: Sendable, Codable {
    /// A tensor of the source that does not go into the output, and why.
    public struct Dropped: Sendable, Hashable, Codable {
        public var name: String
        public var reason: String
    }

    public var preset: QuantizationPreset.Name
    public var overrides: [String]
    /// The CPU the file is laid out for (`convert --target`).
    public var target: DeviceTarget
    /// The passes that ran, in order, each with what it did (`convert --print-passes`).
    public var passes: [String]
    public var decisions: [TensorDecision]
    public var dropped: [Dropped]
    /// Bytes of tensor data in the output.
    public var tensorBytes: Int
    /// Weights (elements) in the output.
    public var parameters: Int
    /// Average storage cost of the output's tensors.
    public var bitsPerWeight: Double
    /// Peak memory the conversion is predicted to need beyond the process's baseline, in bytes.
    public var predictedWorkingMemory: Int

    enum CodingKeys: String, CodingKey {
        case preset, overrides, target, passes, decisions, dropped
        case tensorBytes = "tensor_bytes"
        case parameters
        case bitsPerWeight = "bits_per_weight"
        case predictedWorkingMemory = "predicted_working_memory"
    }

    /// Rows the converter processes at a time; working memory is bounded by this, not the model.
    public static let chunkElements = 1 << 22

    /// Plans the conversion of `checkpoint` with `preset` and `overrides` (first match wins).
    /// - Throws: `MVLMError` when an override forces a type that cannot hold a tensor's shape, or a
    ///   tensor's dtype cannot be converted; `.invalidArgument` when an override matches no tensor.
    /// - Parameter repack: write the kernels' rows16 layout where it applies (`LayoutPass`; .mvlm
    ///   output only, GGUF is always row-major); the same as `target` `.x86AVX512` (true) or
    ///   `.generic` (false), for callers that name no target.
    /// - Parameter target: the CPU the file is laid out for; when given, it decides the layout
    ///   instead of `repack`.
    /// - Parameter unused: tensors the model does not read, with the reason (from the engine's
    ///   builder: e.g. the vision tower's last block under `mm_vision_select_layer` -2); they are
    ///   dropped and listed.
    public static func make(
        checkpoint: Checkpoint, preset: QuantizationPreset, overrides: [TensorOverride] = [], fuse: Bool = true,
        repack: Bool = false, target: DeviceTarget? = nil, unused: [String: String] = [:]
    ) throws -> ConversionPlan {
        let target = target ?? (repack ? .x86AVX512 : .generic)
        let infos = checkpoint.reader.tensorInfos
        let names = Set(infos.map(\.name))
        let tied = (checkpoint.config["tie_word_embeddings"] == .bool(true))
            || (!names.contains("lm_head.weight") && !names.contains("output.weight"))
        var layerCounts: [TensorRole: Int] = [:]
        for info in infos {
            let (role, layer) = TensorRole.classify(info.name, rank: info.shape.count)
            if let layer { layerCounts[role] = max(layerCounts[role] ?? 0, layer + 1) }
        }
        // An override that matches nothing is a typo ('[=Q8_0', a wrong layer name): say so.
        for override in overrides where !infos.contains(where: { override.matches($0.name) }) {
            throw MVLMError(
                .invalidArgument,
                "--override \(override) matches no tensor of the checkpoint (\(infos.count) tensors, e.g. '\(infos.first?.name ?? "")'); patterns are globs over tensor names (* and ?)")
        }
        var decisions: [TensorDecision] = []
        var dropped: [Dropped] = []
        var largestRow = 0
        for info in infos {
            if info.name.hasSuffix("rotary_emb.inv_freq") {
                dropped.append(Dropped(name: info.name, reason: "rotary frequencies are recomputed from rope_theta"))
                continue
            }
            if let reason = unused[info.name] {
                dropped.append(Dropped(name: info.name, reason: reason))
                continue
            }
            let (role, layer) = TensorRole.classify(info.name, rank: info.shape.count)
            var (storage, reason) = preset.storage(
                role: role, layer: layer, layerCount: layerCounts[role] ?? 0, rank: info.shape.count,
                tiedEmbeddings: tied)
            if let match = overrides.first(where: { $0.matches(info.name) }) {
                if case .quantized = match.storage, info.shape.count < 2 {
                    // Norm scales and biases are read whole by the engine: block types are for matrices.
                    reason += " (override \(match) applies to matrices only)"
                } else {
                    storage = match.storage
                    reason = "override \(match)"
                }
            }
            var isBlock = false
            if case .block = info.dtype { isBlock = true }
            if !isBlock, !info.dtype.isFloatingPoint {
                // Integer and bool tensors (position ids, masks) are kept as they are.
                storage = .keep
                reason = "\(info.dtype.name) data is kept as is"
            }
            let rowLength = info.shape.last ?? 1
            var fallback: String?
            if case .quantized = storage, info.shape.count < 1 || rowLength == 0 {
                storage = .float(.float32)
                fallback = "an empty or 0-d tensor cannot be quantized; using F32"
            } else if let (replacement, why) = QuantizationPreset.fallback(for: storage, rowLength: rowLength) {
                if reason.hasPrefix("override") {
                    throw MVLMError(
                        .invalidArgument, "\(reason) cannot hold shape \(Shape.describe(info.shape)): \(why)",
                        subject: "tensor '\(info.name)'")
                }
                fallback = why
                storage = replacement
            }
            // A block tensor already in the wanted scheme is copied through, never re-quantized.
            if case .block(let block) = info.dtype, case .quantized(let scheme) = storage, scheme.blockType == block {
                storage = .keep
                reason += "; already \(block.name), copied through"
            }
            let (outputDType, bytes) = try outputSize(info: info, storage: storage)
            largestRow = max(largestRow, rowLength)
            decisions.append(
                TensorDecision(
                    name: info.name, sourceNames: [info.name], sourceRows: nil, role: role, layer: layer, sourceDType: info.dtype.name,
                    shape: info.shape, storage: storage.description, outputDType: outputDType, reason: reason,
                    fallback: fallback, bytes: bytes))
        }
        var passes = [
            "drop-unused: \(dropped.count) tensors dropped (listed with their reasons)",
            "storage: \(decisions.count) tensors typed by preset \(preset.name.rawValue)\(overrides.isEmpty ? "" : " and \(overrides.count) overrides"), \(decisions.filter { $0.fallback != nil }.count) fallbacks",
        ]
        if fuse {
            passes.append(FusionPass.qkv.apply(to: &decisions))
            passes.append(FusionPass.gateUp.apply(to: &decisions))
        } else {
            passes.append("fuse: off (--no-fuse)")
        }
        passes.append(LayoutPass.apply(to: &decisions, target: target))
        let bytes = decisions.reduce(0) { $0 + $1.bytes }
        let parameters = decisions.reduce(0) { $0 + $1.elementCount }
        // Per chunk: the f32 rows and their encoded form, twice over for the two-stage pipeline,
        // plus one row of headroom.
        let chunk = max(chunkElements, largestRow)
        let working = 2 * (chunk * 4 + chunk * 4) + largestRow * 8
        return ConversionPlan(
            preset: preset.name, overrides: overrides.map(\.description), target: target, passes: passes, decisions: decisions,
            dropped: dropped,
            tensorBytes: bytes, parameters: parameters,
            bitsPerWeight: parameters > 0 ? Double(bytes * 8) / Double(parameters) : 0,
            predictedWorkingMemory: working)
    }

    /// The output dtype name and byte count of a tensor stored as `storage`.
    static func outputSize(info: TensorInfo, storage: StorageType) throws -> (String, Int) {
        let count = info.elementCount
        switch storage {
        case .keep:
            return (info.dtype.name, info.byteCount)
        case .float(let dtype):
            return (dtype.name, dtype.byteCount(elementCount: count) ?? 0)
        case .quantized(let scheme):
            let rowLength = info.shape.last ?? 1
            let rows = rowLength == 0 ? 0 : count / rowLength
            let rowBytes = try scheme.rowByteCount(elements: rowLength)
            return (scheme.name, rows * rowBytes)
        }
    }
}
