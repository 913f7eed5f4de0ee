/// Shape and cache parameters of an attention node.
public struct AttentionParameters: Hashable, Sendable, CustomStringConvertible {
    /// Query heads.
    public var heads: Int
    /// Key/value heads; `heads` is a multiple of it (grouped-query attention when smaller).
    public var keyValueHeads: Int
    public var headDimension: Int
    /// Multiplier of the scores, usually `1 / sqrt(headDimension)`.
    public var scale: Float
    /// Which key/value cache this node reads and appends to (one per layer).
    public var cacheSlot: Int

    public init(heads: Int, keyValueHeads: Int, headDimension: Int, scale: Float, cacheSlot: Int) {
        self.heads = heads
        self.keyValueHeads = keyValueHeads
        self.headDimension = headDimension
        self.scale = scale
        self.cacheSlot = cacheSlot
    }

    public var description: String {
        "heads: \(heads), kvHeads: \(keyValueHeads), headDim: \(headDimension), scale: \(scale), cache: \(cacheSlot), causal"
    }
}
