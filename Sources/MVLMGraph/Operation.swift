/// What a graph node computes. Inputs are other nodes, listed in the order each case documents.
///
/// Activations are `f32`; weights may be `f32`, `f16` or `bf16` and are widened as they are read.
/// The symbol `T` is the number of tokens in one call; positions run from the number of tokens
/// already in the key/value cache.
public enum Operation: Hashable, Sendable {
    /// A value supplied by the caller, e.g. `tokens: i32[T]`.
    case input(name: String)
    /// A named weight bound from a checkpoint when the graph runs.
    case weight(name: String)
    /// Rows of a table: inputs `(table [V, H], ids i32[T])` -> `[T, H]`. Ids outside `0..<V` fail.
    case embedding
    /// `x / sqrt(mean(x^2) + epsilon) * weight` over the last axis: inputs `(x [.., H], weight [H])`.
    case rmsNorm(epsilon: Float)
    /// `(x - mean) / sqrt(var + epsilon) * weight + bias` over the last axis:
    /// inputs `(x [.., H], weight [H], bias [H])`.
    case layerNorm(epsilon: Float)
    /// `x · weightᵀ (+ bias)`: inputs `(x [.., K], weight [N, K])` or `(x, weight, bias [N])` -> `[.., N]`.
    case linear
    /// Rotary position embedding of every head: input `x [T, heads * headDim]`.
    case rope(RotaryEmbedding)
    /// Causal scaled-dot-product attention with grouped-query heads and a key/value cache:
    /// inputs `(q [T, heads * headDim], k [T, kvHeads * headDim], v [T, kvHeads * headDim])`
    /// -> `[T, heads * headDim]`. The new keys and values are appended to cache slot `cacheSlot`.
    case attention(AttentionParameters)
    /// `silu(gate) * up`, element-wise: inputs `(gate, up)` of one shape.
    case siluMul
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`.
    case gelu
    /// `x * sigmoid(1.702 x)` (CLIP's "quick_gelu").
    case quickGelu
    /// Element-wise sum of two values of one shape.
    case add
    /// Element-wise product of two values of one shape.
    case mul
    /// The same elements with new dimensions (equal element count).
    case reshape([Dimension])
    /// Values joined along `axis`; all other dimensions agree.
    case concat(axis: Int)
    /// Elements `start..<end` along `axis`. Negative bounds count from the end (as in Python);
    /// `end == nil` means the end of the axis.
    case slice(axis: Int, start: Int, end: Int?)

    /// The operation's name in a graph dump.
    public var name: String {
        switch self {
        case .input: "input"
        case .weight: "weight"
        case .embedding: "embedding"
        case .rmsNorm: "rms_norm"
        case .layerNorm: "layer_norm"
        case .linear: "linear"
        case .rope: "rope"
        case .attention: "attention"
        case .siluMul: "silu_mul"
        case .gelu: "gelu"
        case .quickGelu: "quick_gelu"
        case .add: "add"
        case .mul: "mul"
        case .reshape: "reshape"
        case .concat: "concat"
        case .slice: "slice"
        }
    }

    /// Parameters shown in a graph dump, or "" when there are none.
    public var parameterDescription: String {
        switch self {
        case .input(let name): "\"\(name)\""
        case .weight(let name): "\"\(name)\""
        case .rmsNorm(let epsilon), .layerNorm(let epsilon): "eps: \(epsilon)"
        case .rope(let rope): rope.description
        case .attention(let parameters): parameters.description
        case .reshape(let dimensions): "[" + dimensions.map(\.description).joined(separator: ", ") + "]"
        case .concat(let axis): "axis: \(axis)"
        case .slice(let axis, let start, let end): "axis: \(axis), \(start)..<\(end.map(String.init) ?? "end")"
        default: ""
        }
    }
}
