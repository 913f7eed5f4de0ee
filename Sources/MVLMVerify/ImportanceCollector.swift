import MVLMCore
import MVLMModels
import MVLMRuntime

/// Gathers, for every linear layer, the mean squared activation of each input column over a
/// calibration input: what llama.cpp calls an importance matrix (`llama-imatrix`). The converter
/// passes it to the quantizers' scale search, which then weighs each column's error by how much
/// that column matters to the layer's output.
///
/// Keys are weight names as the float model reads them (source names); projections that read the
/// same input (q/k/v, gate/up) get the same statistics, so fused tensors find each part's entry.
public final class ImportanceCollector: LinearInputObserver {
    private var sums: [String: [Double]] = [:]
    private var rows: [String: Int] = [:]

    public override init() {}

    public override func observe(weight name: String, input: Activation) {
        let width = input.lastDimension
        let count = input.rowCount
        if sums[name] == nil { sums[name] = [Double](repeating: 0, count: width) }
        precondition(sums[name]!.count == width, "weight \(name) was seen with two input widths")
        input.values.withUnsafeBufferPointer { x in
            // Accumulated in place in the dictionary's array (no copy per call).
            sums[name]!.withUnsafeMutableBufferPointer { s in
                for row in 0..<count {
                    let base = row &* width
                    for column in 0..<width {
                        let value = Double(x[base &+ column])
                        s[column] += value * value
                    }
                }
            }
        }
        rows[name, default: 0] += count
    }

    /// Tokens' worth of rows seen per weight.
    public var rowCounts: [String: Int] { rows }

    /// Per weight name, the mean squared activation of each input column.
    public var importance: [String: [Float]] {
        sums.reduce(into: [:]) { result, item in
            let n = Double(max(rows[item.key] ?? 1, 1))
            result[item.key] = item.value.map { Float($0 / n) }
        }
    }

    /// Runs `model` over `tokens` in windows of `context` tokens (each from an empty cache) and
    /// gathers the statistics of every linear layer, the output head included.
    /// - Parameter progress: called after each window with (windows done, windows in all).
    /// - Throws: `MVLMError` for fewer than 2 tokens, an id outside the vocabulary, or interpreter errors.
    public static func collect(
        model: LanguageModel, tokens: [Int32], context: Int, threads: Int, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> ImportanceCollector {
        guard tokens.count >= 2 else {
            throw MVLMError(.invalidArgument, "calibration needs at least 2 tokens, got \(tokens.count)")
        }
        guard context >= 2 else { throw MVLMError(.invalidArgument, "the window must be at least 2 tokens, got \(context)") }
        let collector = ImportanceCollector()
        var interpreter = try model.makeInterpreter(threads: threads)
        let starts = Array(stride(from: 0, to: tokens.count, by: context))
        for (index, start) in starts.enumerated() {
            let window = Array(tokens[start..<min(start + context, tokens.count)])
            interpreter.resetCache()
            _ = try interpreter.run(["tokens": .tokens(window)], outputs: ["logits"], observer: collector)
            progress(index + 1, starts.count)
        }
        return collector
    }
}
