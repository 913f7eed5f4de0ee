import MVLMCore

/// Leaves out the source tensors the model does not read: rotary frequencies (recomputed from
/// `rope_theta`) and the tensors the engine's builder lists as unused (e.g. the vision tower's last
/// block under `mm_vision_select_layer` -2), each with its reason.
public struct DropUnusedPass: ConversionPass {
    public var name: String { "drop-unused" }
    /// Tensor name → why the model does not read it.
    public var unused: [String: String]

    public init(unused: [String: String] = [:]) {
        self.unused = unused
    }

    public func apply(to draft: inout ConversionDraft) throws -> String {
        var kept: [TensorInfo] = []
        for info in draft.candidates {
            if info.name.hasSuffix("rotary_emb.inv_freq") {
                draft.dropped.append(.init(name: info.name, reason: "rotary frequencies are recomputed from rope_theta"))
            } else if let reason = unused[info.name] {
                draft.dropped.append(.init(name: info.name, reason: reason))
            } else {
                kept.append(info)
            }
        }
        draft.candidates = kept
        return "\(name): \(draft.dropped.count) tensors dropped (listed with their reasons)"
    }
}
