#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMCore
import MVLMRuntime

/// The outcome of a greedy generation.
public struct GenerationResult: Sendable {
    /// The new token ids (the prompt excluded).
    public var tokens: [Int32]
    /// Logits at every prompt position, `[promptLength, vocabulary]`, when requested.
    public var promptLogits: Activation?
    /// Wall-clock seconds of the prompt pass (including the first token's logits).
    public var prefillSeconds: Double
    /// Wall-clock seconds of the token-by-token steps.
    public var decodeSeconds: Double
}

/// Token generation: one matrix-matrix pass over the prompt, then one token at a time from the
/// key/value cache. By default greedy, always taking the highest logit (the first one on ties,
/// like `torch.argmax`); with `SamplingOptions` other than `.greedy`, each token is chosen by a
/// `Sampler` (repetition penalty, temperature, top-k, top-p, min-p, seeded draw).
public struct GreedyGenerator {
    /// The interpreter (and key/value cache) the generator drives.
    public var interpreter: Interpreter

    /// A generator over `model` using `threads` kernel threads.
    /// - Throws: `MVLMError` when the model's weights do not bind (see `Interpreter.init`).
    public init(model: LanguageModel, threads: Int = Interpreter.processorCount) throws {
        interpreter = try model.makeInterpreter(threads: threads)
    }

    /// A generator over the image-taking decoder of a vision-language model: prompts may hold
    /// image markers (negative ids, one per image row) filled from `imageRows`.
    /// - Throws: `MVLMError` when the model has no vision encoder.
    public init(multimodal model: LanguageModel, threads: Int = Interpreter.processorCount) throws {
        interpreter = try Interpreter(graph: try model.requireVision().decoder, weights: model.weights, threads: threads)
    }

    /// Generates `maxNewTokens` tokens after `prompt` (stopping early at a `stopTokens` member,
    /// which is included).
    /// - Throws: `MVLMError` (`.invalidArgument`) for an empty prompt, a token id outside the
    ///   vocabulary, or sampling options out of range.
    /// - Parameter onToken: called with each new token as soon as it is chosen (for streaming).
    ///   - shouldStop: asked after each token; true ends generation there (an interrupted answer).
    ///   - imageRows: for a multimodal generator, the rows that replace the prompt's negative ids
    ///     in order (`[count of negative ids, hidden]`).
    ///   - sampling: how each token is chosen (`.greedy`: the largest logit). The repetition
    ///     penalty sees the prompt and every generated token.
    public mutating func generate(
        prompt: [Int32], imageRows: Activation? = nil, maxNewTokens: Int, keepPromptLogits: Bool = false,
        stopTokens: Set<Int32> = [], sampling: SamplingOptions = .greedy, onToken: (Int32) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw MVLMError(.invalidArgument, "the prompt is empty") }
        guard maxNewTokens >= 0 else { throw MVLMError(.invalidArgument, "max new tokens is negative") }
        var sampler = try Sampler(sampling)
        let usesSampler = sampling != .greedy
        var history = usesSampler ? prompt : []
        func choose(_ logits: ArraySlice<Float>) -> Int32 {
            guard usesSampler else { return Self.argmax(logits) }
            let token = sampler.next(logits: logits, history: history)
            history.append(token)
            return token
        }
        let rowsInput = interpreter.graph.inputs.first { $0.name == "image_rows" }
        let width = rowsInput?.type.dimensions.last?.fixedValue ?? 0
        guard rowsInput != nil || imageRows == nil else {
            throw MVLMError(.invalidArgument, "image rows were given to a text-only generator")
        }
        let noRows = Activation(shape: [0, width], values: [])
        func inputs(_ tokens: [Int32], _ rows: Activation?) -> [String: InputValue] {
            guard rowsInput != nil else { return ["tokens": .tokens(tokens)] }
            return ["tokens": .tokens(tokens), "image_rows": .floats(rows ?? noRows)]
        }
        interpreter.resetCache()
        let start = Self.now()
        let prefillOutputs = keepPromptLogits ? ["logits"] : ["last_logits"]
        let prefill = try interpreter.run(inputs(prompt, imageRows), outputs: prefillOutputs)
        let first = prefill[prefillOutputs[0]]!
        var tokens: [Int32] = []
        var next = choose(first.values[(first.values.count - first.lastDimension)...])
        let afterPrefill = Self.now()
        while tokens.count < maxNewTokens {
            tokens.append(next)
            onToken(next)
            if stopTokens.contains(next) || tokens.count == maxNewTokens || shouldStop() { break }
            let step = try interpreter.run(inputs([next], nil), outputs: ["last_logits"])
            next = choose(step["last_logits"]!.values[...])
        }
        let end = Self.now()
        return GenerationResult(
            tokens: tokens, promptLogits: keepPromptLogits ? first : nil,
            prefillSeconds: afterPrefill - start, decodeSeconds: end - afterPrefill)
    }

    /// The index of the largest value (the first on ties; NaN never wins).
    static func argmax(_ values: ArraySlice<Float>) -> Int32 {
        var best = values.startIndex
        var bestValue = -Float.infinity
        for index in values.indices where values[index] > bestValue {
            bestValue = values[index]
            best = index
        }
        return Int32(best - values.startIndex)
    }

    /// Seconds on the monotonic clock (`Interpreter.clock()`).
    public static func now() -> Double { Interpreter.clock() }
}
