import MVLMGraph

/// The part of a run a node's time counts toward in `Interpreter.lastRunParts` (`MVLM_PROFILE=1`):
/// how `mvlm bench --image` splits an image encode.
public enum ProfilePart: String, Sendable, CaseIterable {
    /// Matrix products (`linear`) outside the projector: the tower's, or the decoder's.
    case products
    /// Attention (`encoder_attention`, `attention`) outside the projector.
    case attention
    /// Everything else outside the projector: norms, activations, residual adds, copies, patches.
    case elementwise
    /// Every node whose label starts with `projector.` (LDP / LDPv2, products included).
    case projector

    /// The part `node` counts toward.
    public init(_ node: Node) {
        if node.label.hasPrefix("projector.") {
            self = .projector
            return
        }
        switch node.operation {
        case .linear: self = .products
        case .attention, .encoderAttention: self = .attention
        default: self = .elementwise
        }
    }
}
