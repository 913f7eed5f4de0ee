import MVLMCore
import MVLMModels

/// How a `ChatSession` answers: how many tokens at most, how each is chosen, where the answer
/// ends, and how many threads compute it.
public struct GenerationOptions: Sendable, Hashable {
    /// The most tokens an answer may have (fewer when the conversation would overflow the
    /// model's context: the answer then ends where the context does).
    public var maxNewTokens: Int
    /// How each next token is chosen; `.greedy` (the default) takes the most likely one, as
    /// `mvlm run` does. `LoadedModel.recommendedSampling` holds the model's own defaults.
    public var sampling: SamplingOptions
    /// Text that ends the answer when the model writes it; the answer stops before it.
    public var stopStrings: [String]
    /// Kernel threads (nil: one per core).
    public var threads: Int?

    public init(maxNewTokens: Int = 256, sampling: SamplingOptions = .greedy, stopStrings: [String] = [], threads: Int? = nil) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.threads = threads
    }

    /// Checks every field.
    /// - Throws: `MVLMError` (`.invalidArgument`) naming the field out of range.
    public func validate() throws {
        guard maxNewTokens >= 0 else { throw MVLMError(.invalidArgument, "max new tokens is \(maxNewTokens); it must be 0 or more") }
        if let threads, threads < 1 { throw MVLMError(.invalidArgument, "threads is \(threads); it must be at least 1") }
        try sampling.validate()
        _ = try StopStrings(stopStrings)
    }
}
