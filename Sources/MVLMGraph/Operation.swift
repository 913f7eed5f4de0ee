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
    /// With a third input `rows f32[R, H]` (multimodal prompts), every negative id takes the next
    /// row of `rows` in order instead (image features spliced into the text); the number of
    /// negative ids must equal `R`.
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
    /// Bidirectional (non-causal) scaled-dot-product attention over the `T` rows of one call, with
    /// no cache (vision encoders): inputs `(q, k, v)`, each `[T, heads * headDim]` -> `[T, heads * headDim]`.
    case encoderAttention(heads: Int, headDimension: Int, scale: Float)
    /// Non-overlapping `patch × patch` squares of an image `x [C, H, W]`, one row per square in
    /// row-major order, each row in `(channel, row, column)` order: -> `[(H/p)(W/p), C p p]`.
    /// Followed by `linear` it is a convolution with kernel and stride `patch` (ViT patch embedding).
    case patchify(patch: Int)
    /// Depthwise 2-D convolution (one filter per channel, PyTorch `groups = channels`) of a
    /// token-major grid: inputs `(x [h * w, C], weight [C, 1, k, k])` or `(x, weight, bias [C])` ->
    /// `[h' * w', C]`.
    case depthwiseConv2d(PlanarWindow)
    /// Average of each window of a token-major grid (no padding): input `x [h * w, C]` -> `[h' * w', C]`.
    case averagePool2d(PlanarWindow)
    /// The mean of every column: input `x [N, C]` -> `[1, C]` (global average pooling of a grid).
    case meanRows
    /// A weight's values as an f32 activation of the same shape (learned embeddings added to
    /// activations).
    case weightValues
    /// `silu(gate) * up`, element-wise: inputs `(gate, up)` of one shape.
    case siluMul
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`.
    case gelu
    /// `x * sigmoid(1.702 x)` (CLIP's "quick_gelu").
    case quickGelu
    /// `max(x, 0)`.
    case relu
    /// `x * relu6(x + 3) / 6` (PyTorch `Hardswish`).
    case hardSwish
    /// `relu6(x + 3) / 6` (PyTorch `Hardsigmoid`).
    case hardSigmoid
    /// Element-wise sum of two values of one rank; the second is broadcast along its size-1
    /// dimensions (e.g. `[N, C] + [1, C]`).
    case add
    /// Element-wise product, broadcasting the second input as `add` does.
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
        case .encoderAttention: "encoder_attention"
        case .patchify: "patchify"
        case .depthwiseConv2d: "depthwise_conv2d"
        case .averagePool2d: "average_pool2d"
        case .meanRows: "mean_rows"
        case .weightValues: "weight_values"
        case .siluMul: "silu_mul"
        case .relu: "relu"
        case .hardSwish: "hard_swish"
        case .hardSigmoid: "hard_sigmoid"
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
        case .encoderAttention(let heads, let headDimension, let scale):
            "heads: \(heads), headDim: \(headDimension), scale: \(scale), bidirectional"
        case .patchify(let patch): "patch: \(patch)"
        case .depthwiseConv2d(let window), .averagePool2d(let window): window.description
        case .reshape(let dimensions): "[" + dimensions.map(\.description).joined(separator: ", ") + "]"
        case .concat(let axis): "axis: \(axis)"
        case .slice(let axis, let start, let end): "axis: \(axis), \(start)..<\(end.map(String.init) ?? "end")"
        default: ""
        }
    }
}
