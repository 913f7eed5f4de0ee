import MVLMCore

/// Fuses the projections that read the same input into one matrix (rows concatenated), so the
/// runtime does one matrix product instead of several: attention q/k/v into `qkv_proj`, MLP
/// gate/up into `gate_up_proj`. The engine slices the product (`LlamaBuilder`), which computes
/// exactly what the separate products compute. A group is fused only when its parts share the
/// output type and row length (under `q4_k_m`, layers whose `v_proj` gets Q6_K keep q/k/v apart).
public struct FusionPass: ConversionPass {
    public var name: String
    /// Suffixes of the parts, in row order, under a layer prefix (`model.layers.N.`).
    public var parts: [String]
    /// The fused tensor's suffix.
    public var fused: String

    public static let qkv = FusionPass(
        name: "fuse-qkv", parts: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"], fused: "self_attn.qkv_proj")
    public static let gateUp = FusionPass(
        name: "fuse-gate-up", parts: ["mlp.gate_proj", "mlp.up_proj"], fused: "mlp.gate_up_proj")

    /// Fusion turned off (`convert --no-fuse`): changes nothing and says so.
    public static let off = FusionPass(name: "fuse", parts: [], fused: "")

    public func apply(to draft: inout ConversionDraft) throws -> String {
        apply(to: &draft.decisions)
    }

    /// Rewrites `decisions` and describes what it did.
    public func apply(to decisions: inout [TensorDecision]) -> String {
        guard !parts.isEmpty else { return "\(name): off (--no-fuse)" }
        var index: [String: Int] = [:]
        for (position, decision) in decisions.enumerated() { index[decision.name] = position }
        var fusedLayers = 0
        var kept: [String] = []
        var replacements: [Int: TensorDecision] = [:]
        var removed = Set<Int>()
        let firstPart = ".\(parts[0]).weight"
        for decision in decisions where decision.name.hasSuffix(firstPart) {
            let prefix = String(decision.name.dropLast(firstPart.count)) + "."
            for suffix in ["weight", "bias"] {
                let names = parts.map { "\(prefix)\($0).\(suffix)" }
                let members = names.compactMap { index[$0].map { decisions[$0] } }
                guard members.count == parts.count else {
                    if suffix == "weight" { kept.append(prefix) }
                    break
                }
                let dtype = members[0].outputDType
                let columns = members[0].shape.count == 2 ? members[0].shape[1] : nil
                let compatible = members.allSatisfy {
                    $0.outputDType == dtype && $0.sourceNames.count == 1 && $0.shape.count == members[0].shape.count
                        && ($0.shape.count == 1 || $0.shape[1] == columns)
                }
                guard compatible else {
                    if suffix == "weight" { kept.append(prefix) }
                    break
                }
                var rows: [[Int]] = []
                var total = 0
                for member in members {
                    rows.append([total, total + member.shape[0]])
                    total += member.shape[0]
                }
                var fused = members[0]
                fused.name = "\(prefix)\(self.fused).\(suffix)"
                fused.sourceNames = members.map(\.name)
                fused.sourceRows = rows
                fused.shape = members[0].shape.count == 2 ? [total, columns!] : [total]
                fused.bytes = members.reduce(0) { $0 + $1.bytes }
                fused.reason = "\(name) of \(parts.count) tensors; \(members[0].reason)"
                fused.fallback = members.compactMap(\.fallback).first
                let positions = names.map { index[$0]! }
                replacements[positions[0]] = fused
                positions.dropFirst().forEach { removed.insert($0) }
                if suffix == "weight" { fusedLayers += 1 }
            }
        }
        var result: [TensorDecision] = []
        for (position, decision) in decisions.enumerated() where !removed.contains(position) {
            result.append(replacements[position] ?? decision)
        }
        decisions = result
        let total = fusedLayers + kept.count
        return "\(name): \(fusedLayers) of \(total) layers fused"
            + (kept.isEmpty ? "" : " (\(kept.count) kept apart: their parts differ in type or shape)")
    }
}
