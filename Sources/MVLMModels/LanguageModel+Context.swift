import MVLMCore

extension LanguageModel {
    /// How many new tokens may follow a prompt of `promptLength` positions (image rows counted):
    /// `requested`, capped so that prompt and generation fit in `maxPositionEmbeddings`.
    /// - Returns: the capped count (less than `requested` when the context fills first).
    /// - Throws: `MVLMError` (`.invalidArgument`) when the prompt alone is longer than the
    ///   context: the model was never trained on such positions, and running it would take long
    ///   for an answer that means nothing.
    public func newTokenBudget(promptLength: Int, requested: Int) throws -> Int {
        guard promptLength <= maxPositionEmbeddings else {
            throw MVLMError(
                .invalidArgument,
                "the prompt has \(promptLength) positions, more than the model's context "
                    + "(max_position_embeddings \(maxPositionEmbeddings)): shorten it")
        }
        return min(max(requested, 0), maxPositionEmbeddings - promptLength)
    }
}
