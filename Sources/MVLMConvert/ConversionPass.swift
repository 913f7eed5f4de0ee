import MVLMCheckpoint
import MVLMCore

/// One step of planning a conversion: it rewrites the draft (which source tensors go in, their
/// decisions) and says what it did. `ConversionPlan.make` runs a list of passes in order
/// (`ConversionPlan.pipeline`); `convert --print-passes` prints that list with each pass's line.
/// Passes carry typed decisions (`TensorDecision`: `StorageType`, `DType`, `TensorLayout`), never
/// names to be parsed back.
public protocol ConversionPass: Sendable {
    /// The pass's name as `--print-passes` shows it (`drop-unused`, `storage`, `fuse-qkv`, `layout`).
    var name: String { get }
    /// Rewrites `draft` and returns one line saying what changed.
    /// - Throws: `MVLMError` when the pass cannot do what was asked (an override that fits no tensor).
    func apply(to draft: inout ConversionDraft) throws -> String
}

/// The state the passes share while a plan is made.
public struct ConversionDraft: Sendable {
    /// The checkpoint being converted (its tensor table and config).
    public var checkpoint: Checkpoint
    /// Source tensors that go into the output and have no decision yet (the storage pass turns them
    /// into decisions).
    public var candidates: [TensorInfo]
    /// The decisions so far, in output order.
    public var decisions: [TensorDecision] = []
    /// Source tensors left out, with the reason.
    public var dropped: [ConversionPlan.Dropped] = []
    /// The longest row (last dimension) of any tensor the storage pass typed: bounds the
    /// converter's working memory.
    public var largestRow = 0

    public init(checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
        self.candidates = checkpoint.reader.tensorInfos
    }
}
