import MVLMCore
import MVLMQuant

/// Chooses every tensor's storage from the preset's rules and the overrides (first match wins),
/// with the fallbacks a shape forces, and turns the draft's candidates into decisions.
public struct StoragePass: ConversionPass {
    public var name: String { "storage" }
    public var preset: QuantizationPreset
    public var overrides: [TensorOverride]

    public init(preset: QuantizationPreset, overrides: [TensorOverride] = []) {
        self.preset = preset
        self.overrides = overrides
    }

    /// - Throws: `.invalidArgument` when an override matches no tensor of the checkpoint or forces
    ///   a type that cannot hold a tensor's shape; `MVLMError` when a tensor's dtype cannot be sized.
    public func apply(to draft: inout ConversionDraft) throws -> String {
        let infos = draft.checkpoint.reader.tensorInfos
        let names = Set(infos.map(\.name))
        let tied = (draft.checkpoint.config["tie_word_embeddings"] == .bool(true))
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
        for info in draft.candidates {
            draft.decisions.append(try decision(for: info, layerCounts: layerCounts, tied: tied))
            draft.largestRow = max(draft.largestRow, info.shape.last ?? 1)
        }
        draft.candidates = []
        let fallbacks = draft.decisions.filter { $0.fallback != nil }.count
        return "\(name): \(draft.decisions.count) tensors typed by preset \(preset.name.rawValue)\(overrides.isEmpty ? "" : " and \(overrides.count) overrides"), \(fallbacks) fallbacks"
    }

    /// The decision for one source tensor.
    func decision(for info: TensorInfo, layerCounts: [TensorRole: Int], tied: Bool) throws -> TensorDecision {
        let (role, layer) = TensorRole.classify(info.name, rank: info.shape.count)
        var (storage, reason) = preset.storage(
            role: role, layer: layer, layerCount: layerCounts[role] ?? 0, rank: info.shape.count, tiedEmbeddings: tied)
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
        let (outputDType, bytes) = try ConversionPlan.outputSize(info: info, storage: storage)
        return TensorDecision(
            name: info.name, sourceNames: [info.name], sourceRows: nil, role: role, layer: layer, sourceDType: info.dtype,
            shape: info.shape, storage: storage, outputDType: outputDType, reason: reason, fallback: fallback, bytes: bytes)
    }
}
