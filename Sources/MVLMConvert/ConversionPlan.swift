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

        public init(name: String, reason: String) {
            self.name = name
            self.reason = reason
        }
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
        var draft = ConversionDraft(checkpoint: checkpoint)
        var passes: [String] = []
        for pass in pipeline(preset: preset, overrides: overrides, fuse: fuse, target: target, unused: unused) {
            passes.append(try pass.apply(to: &draft))
        }
        let decisions = draft.decisions, dropped = draft.dropped, largestRow = draft.largestRow
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

    /// The passes `make` runs, in order: drop-unused, storage, fusion (q/k/v, gate/up; or a line
    /// saying it is off), layout. `convert --print-passes` prints this list with what each did.
    public static func pipeline(
        preset: QuantizationPreset, overrides: [TensorOverride] = [], fuse: Bool = true, target: DeviceTarget,
        unused: [String: String] = [:]
    ) -> [any ConversionPass] {
        var passes: [any ConversionPass] = [DropUnusedPass(unused: unused), StoragePass(preset: preset, overrides: overrides)]
        passes += fuse ? [FusionPass.qkv, FusionPass.gateUp] : [FusionPass.off]
        passes.append(LayoutPass(target: target))
        return passes
    }

    /// The output dtype and byte count of a tensor stored as `storage`.
    static func outputSize(info: TensorInfo, storage: StorageType) throws -> (DType, Int) {
        let count = info.elementCount
        let dtype = try storage.outputDType(sourceDType: info.dtype)
        switch storage {
        case .keep:
            return (dtype, info.byteCount)
        case .float(let float):
            return (dtype, float.byteCount(elementCount: count) ?? 0)
        case .quantized(let scheme):
            let rowLength = info.shape.last ?? 1
            let rows = rowLength == 0 ? 0 : count / rowLength
            let rowBytes = try scheme.rowByteCount(elements: rowLength)
            return (dtype, rows * rowBytes)
        }
    }
}
