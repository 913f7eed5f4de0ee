import MVLMCore
import MVLMModels
import MVLMRuntime

/// Runs a float model and its quantized file on the same tokens and measures the difference.
///
/// Both models run window by window (`EvaluationWindow`), each window from an empty cache; the
/// quantized model executes the file's stored weights (block-quantized tensors read from the
/// mapped file), never tensors kept from the conversion.
public struct VerificationRunner {
    /// The float source model.
    public var reference: LanguageModel
    /// The quantized model (an `.mvlm` file).
    public var candidate: LanguageModel
    /// Kernel threads.
    public var threads: Int
    /// Window length in tokens.
    public var context: Int

    /// - Throws: `MVLMError` (`.invalidArgument`) when the two models do not have the same
    ///   vocabulary and blocks (they are not one model), or `context < 2`.
    public init(reference: LanguageModel, candidate: LanguageModel, threads: Int, context: Int = 512) throws {
        guard context >= 2 else { throw MVLMError(.invalidArgument, "the window (--ctx) must be at least 2 tokens, got \(context)") }
        guard reference.vocabularySize == candidate.vocabularySize else {
            throw MVLMError(
                .invalidArgument,
                "the file's vocabulary has \(candidate.vocabularySize) tokens, the source's \(reference.vocabularySize): they are not the same model")
        }
        guard Self.layerOutputs(reference) == Self.layerOutputs(candidate) else {
            throw MVLMError(
                .invalidArgument,
                "the file has \(Self.layerOutputs(candidate).count) blocks, the source \(Self.layerOutputs(reference).count): they are not the same model")
        }
        for name in Self.layerOutputs(reference) {
            let a = reference.graph.nodes[reference.graph.output(named: name)!].type
            let b = candidate.graph.nodes[candidate.graph.output(named: name)!].type
            guard a == b else {
                throw MVLMError(
                    .invalidArgument,
                    "the file's \(name) is \(b), the source's \(a): they are not the same model")
            }
        }
        self.reference = reference
        self.candidate = candidate
        self.threads = threads
        self.context = context
    }

    /// The graph outputs compared layer by layer: each block's residual stream, then the final norm.
    static func layerOutputs(_ model: LanguageModel) -> [String] {
        let blocks = model.graph.outputs.map(\.name).filter { $0.hasPrefix("layers.") }
            .sorted { Int($0.dropFirst(7)) ?? 0 < Int($1.dropFirst(7)) ?? 0 }
        return blocks + ["hidden"]
    }

    /// Compares the two models on `tokens`.
    /// - Parameter progress: called after each window with (windows done, windows in all).
    /// - Throws: `MVLMError` (`.invalidArgument`) for fewer than 2 tokens or an id outside the
    ///   vocabulary; errors of either model's interpreter.
    public func compare(tokens: [Int32], progress: (Int, Int) -> Void = { _, _ in }) throws -> OutputComparison {
        let windows = EvaluationWindow.windows(count: tokens.count, context: context)
        guard !windows.isEmpty else {
            throw MVLMError(.invalidArgument, "verification needs at least 2 tokens, got \(tokens.count)")
        }
        if let bad = tokens.first(where: { Int($0) >= reference.vocabularySize }) {
            throw MVLMError(.invalidArgument, "token id \(bad) is outside the vocabulary 0..<\(reference.vocabularySize)")
        }
        let layerNames = Self.layerOutputs(reference)
        let outputs = ["logits"] + layerNames
        var floatInterpreter = try reference.makeInterpreter(threads: threads)
        var quantizedInterpreter = try candidate.makeInterpreter(threads: threads)
        var klds: [Double] = []
        var same = 0, floatNLL = 0.0, quantizedNLL = 0.0, cosine = 0.0
        var layers = layerNames.map { SignalToNoise(name: $0 == "hidden" ? "norm" : $0) }
        progress(0, windows.count)
        for (index, window) in windows.enumerated() {
            let ids = Array(tokens[window.tokens])
            floatInterpreter.resetCache()
            quantizedInterpreter.resetCache()
            let f = try floatInterpreter.run(["tokens": .tokens(ids)], outputs: outputs)
            let q = try quantizedInterpreter.run(["tokens": .tokens(ids)], outputs: outputs)
            for (layer, name) in layerNames.enumerated() {
                f[name]!.values.withUnsafeBufferPointer { a in
                    q[name]!.values.withUnsafeBufferPointer { b in layers[layer].accumulate(reference: a, candidate: b) }
                }
            }
            let vocabulary = reference.vocabularySize
            f["logits"]!.values.withUnsafeBufferPointer { a in
                q["logits"]!.values.withUnsafeBufferPointer { b in
                    for position in window.firstScored..<(ids.count - 1) {
                        let row = position * vocabulary
                        let comparison = PositionComparison(
                            float: UnsafeBufferPointer(rebasing: a[row..<(row + vocabulary)]),
                            quantized: UnsafeBufferPointer(rebasing: b[row..<(row + vocabulary)]),
                            target: Int(ids[position + 1]))
                        klds.append(comparison.kld)
                        if comparison.sameTop { same += 1 }
                        floatNLL += comparison.floatNLL
                        quantizedNLL += comparison.quantizedNLL
                        cosine += comparison.cosine
                    }
                }
            }
            progress(index + 1, windows.count)
        }
        let n = Double(klds.count)
        return OutputComparison(
            kld: SampleSummary(klds), top1Agreement: Double(same) / n, floatPerplexity: _exp(floatNLL / n),
            quantizedPerplexity: _exp(quantizedNLL / n), logitsCosine: cosine / n, layers: layers,
            tokenCount: tokens.count, scoredPositions: klds.count, windowCount: windows.count, context: context)
    }
}
