/// One window of a long input, evaluated from an empty key/value cache, as `llama-perplexity`
/// does.
///
/// The input is cut into consecutive windows of `context` tokens (a remainder shorter than a
/// window is not evaluated). Inside a window, the logits at position `j` predict token `j + 1`;
/// only positions from `context / 2` on are scored, so every scored prediction sees at least half
/// a window of context. An input no longer than one window is a single window scored from
/// position 0 (there is nothing to gain by waiting).
public struct EvaluationWindow: Sendable, Equatable {
    /// The window's tokens as indices into the whole input.
    public var tokens: Range<Int>
    /// The first scored position, relative to the window's start.
    public var firstScored: Int

    public init(tokens: Range<Int>, firstScored: Int) {
        self.tokens = tokens
        self.firstScored = firstScored
    }

    /// Positions scored (each predicts the next token inside the window).
    public var scoredCount: Int { Swift.max(tokens.count - 1 - firstScored, 0) }

    /// The windows for an input of `count` tokens.
    /// - Precondition: `context >= 2`.
    public static func windows(count: Int, context: Int) -> [EvaluationWindow] {
        precondition(context >= 2)
        if count <= context { return count >= 2 ? [EvaluationWindow(tokens: 0..<count, firstScored: 0)] : [] }
        return (0..<(count / context)).map { index in
            EvaluationWindow(tokens: (index * context)..<((index + 1) * context), firstScored: context / 2)
        }
    }
}
