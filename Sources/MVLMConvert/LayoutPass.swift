import MVLMCore

/// Chooses the stored layout of each tensor: the last pass, after storage types and fusion are
/// fixed. A matrix the runtime multiplies (attention, MLP, output head, vision tower and projector
/// linears) stored as Q4_0, Q4_K or Q6_K, with a multiple of 16 rows in every source part, is
/// written in the rows16 layout (`RowInterleave`, Formats/mvlm.md), which the decode and prefill
/// kernels read in place from the map: nothing is repacked at load. The rest stays row-major, and
/// the pass says why:
/// - the token embedding is read a row at a time by id (and, when the head is tied to it, so is
///   the head);
/// - Q8_0 and the toolkit's own types have no rows16 kernel in the engine's chosen paths (Q8_0
///   prefill keeps f32 activations for accuracy, which the float kernels read row-major);
/// - blocks copied through from the source (`keep`) are written as stored.
public struct LayoutPass: ConversionPass {
    public var name: String { "layout" }
    /// The CPU the file is laid out for (`generic` keeps every tensor row-major).
    public var target: DeviceTarget

    public init(target: DeviceTarget) {
        self.target = target
    }

    public func apply(to draft: inout ConversionDraft) throws -> String {
        Self.apply(to: &draft.decisions, target: target)
    }

    /// The block types the pass repacks.
    public static let repacked: Set<BlockType> = [.q4_0, .q4_K, .q6_K]

    /// Sets `layout` on the decisions that take rows16 and describes what it did. `enabled` false
    /// (`convert --repack none`) keeps every tensor row-major.
    public static func apply(to decisions: inout [TensorDecision], enabled: Bool) -> String {
        apply(to: &decisions, target: enabled ? .x86AVX512 : .generic)
    }

    /// Sets `layout` on the decisions that take the target's layout and describes what it did; the
    /// `generic` target keeps every tensor row-major.
    public static func apply(to decisions: inout [TensorDecision], target: DeviceTarget) -> String {
        guard target.layout == .rows16 else { return "layout: row-major for every tensor (target generic / --repack none)" }
        var count = 0
        var bytes = 0
        for index in decisions.indices {
            let decision = decisions[index]
            guard decision.storage != .keep, decision.role != .tokenEmbedding,
                case .block(let type) = decision.outputDType, repacked.contains(type),
                RowInterleave.applies(to: type, shape: decision.shape)
            else { continue }
            // Every fused part must be whole groups of rows.
            let group = RowInterleave.groupRows
            if let parts = decision.sourceRows, !parts.allSatisfy({ $0.count == 2 && $0[0] % group == 0 && $0[1] % group == 0 }) {
                continue
            }
            decisions[index].layout = .rows16
            count += 1
            bytes += decision.bytes
        }
        return "layout: \(count) matrices repacked as rows16 for \(target.rawValue) (\(bytes / (1 << 20)) MiB, groups of 16 rows interleaved for the kernels, used in place); the rest row-major"
    }
}
