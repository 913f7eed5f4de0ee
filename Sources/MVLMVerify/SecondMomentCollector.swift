import Dispatch
import MVLMCore
import MVLMModels
import MVLMRuntime

/// Gathers, for every linear layer's input, the second moment `H = Σ xᵀx` over a calibration input:
/// what GPTQ (`mvlm convert --gptq`) needs to push each column's rounding error onto the others.
///
/// Projections that read the same input (q/k/v, gate/up: the interpreter hands them equal
/// activations) share one matrix: an input equal to the one just accumulated is not added again,
/// and the weight is recorded as reading it.
///
/// Accumulation: per window, `XᵀX` (upper triangle, each entry a dot product of two columns over the
/// window's rows in f32 SIMD lanes) is added to a Double matrix, so the sum over windows is in f64.
/// Memory: one `columns × columns` Double matrix per distinct input (8 · 576² = 2.6 MB and
/// 8 · 1536² = 18.9 MB for SmolLM2's inputs, 27 MB per layer, 0.8 GB for its 30 layers) plus the
/// transposed window (`columns × rows` floats). ``names`` restricts the gathering to some weights,
/// which bounds the memory per run (see ``collect(model:tokens:context:threads:names:progress:)``).
public final class SecondMomentCollector: LinearInputObserver {
    /// One distinct input: its width, the accumulated upper triangle (full row-major storage) and
    /// the rows seen.
    public struct Moment: Sendable {
        public var columns: Int
        public var sums: [Double]
        public var tokens: Int

        /// The symmetric matrix (lower triangle mirrored from the upper one).
        public var symmetric: [Double] {
            var full = sums
            for i in 0..<columns {
                for j in 0..<i { full[i * columns + j] = full[j * columns + i] }
            }
            return full
        }
    }

    /// Weights to gather for (all when nil).
    public let names: Set<String>?
    public private(set) var moments: [Moment] = []
    /// Weight name → index in ``moments``.
    public private(set) var inputOf: [String: Int] = [:]
    private var lastInput: [Float] = []
    private var lastIndex = -1
    private let threads: Int

    public init(names: Set<String>? = nil, threads: Int = 1) {
        self.names = names
        self.threads = max(threads, 1)
    }

    public override func observe(weight name: String, input: Activation) {
        if let names, !names.contains(name) { return }
        let width = input.lastDimension, rows = input.rowCount
        guard width > 0, rows > 0 else { return }
        if lastIndex >= 0, input.values == lastInput {
            // The same activations as the previous linear layer (q/k/v, gate/up): same matrix.
            if inputOf[name] == nil { inputOf[name] = lastIndex }
            return
        }
        let index: Int
        if let known = inputOf[name] {
            index = known
        } else {
            index = moments.count
            moments.append(Moment(columns: width, sums: [Double](repeating: 0, count: width * width), tokens: 0))
            inputOf[name] = index
        }
        precondition(moments[index].columns == width, "weight \(name) was seen with two input widths")
        Self.accumulate(input.values, rows: rows, columns: width, into: &moments[index].sums, threads: threads)
        moments[index].tokens += rows
        lastInput = input.values
        lastIndex = index
    }

    /// `sums[i][j] += Σ_t x[t][i] x[t][j]` for `j >= i`.
    static func accumulate(_ x: [Float], rows: Int, columns: Int, into sums: inout [Double], threads: Int) {
        // Columns as contiguous rows of the transpose, padded to a multiple of 16.
        let stride = (rows + 15) / 16 * 16
        var transposed = [Float](repeating: 0, count: columns * stride)
        for t in 0..<rows {
            for c in 0..<columns { transposed[c * stride + t] = x[t * columns + c] }
        }
        transposed.withUnsafeBufferPointer { tb in
            sums.withUnsafeMutableBufferPointer { sb in
                nonisolated(unsafe) let xt = tb.baseAddress!
                nonisolated(unsafe) let s = sb.baseAddress!
                // Rows i interleaved over the tasks so each gets a similar share of the triangle.
                let tasks = min(max(threads, 1) * 4, columns)
                DispatchQueue.concurrentPerform(iterations: tasks) { task in
                    var i = task
                    while i < columns {
                        let a = xt + i * stride
                        for j in i..<columns {
                            let b = xt + j * stride
                            var acc = SIMD16<Float>()
                            var k = 0
                            while k < stride {
                                acc += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD16<Float>.self)
                                    * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD16<Float>.self)
                                k &+= 16
                            }
                            s[i &* columns &+ j] += Double(acc.sum())
                        }
                        i &+= tasks
                    }
                }
            }
        }
    }

    /// Runs `model` over `tokens` in windows of `context` tokens (each from an empty cache) and
    /// gathers the second moment of every linear layer's input (of the weights in `names`, or all).
    /// - Throws: `MVLMError` for fewer than 2 tokens, an id outside the vocabulary, or interpreter errors.
    public static func collect(
        model: LanguageModel, tokens: [Int32], context: Int, threads: Int, names: Set<String>? = nil,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> SecondMomentCollector {
        guard tokens.count >= 2 else {
            throw MVLMError(.invalidArgument, "calibration needs at least 2 tokens, got \(tokens.count)")
        }
        guard context >= 2 else { throw MVLMError(.invalidArgument, "the window must be at least 2 tokens, got \(context)") }
        let collector = SecondMomentCollector(names: names, threads: threads)
        var interpreter = try model.makeInterpreter(threads: threads)
        let starts = Array(stride(from: 0, to: tokens.count, by: context))
        for (index, start) in starts.enumerated() {
            let window = Array(tokens[start..<min(start + context, tokens.count)])
            interpreter.resetCache()
            collector.lastIndex = -1
            collector.lastInput = []
            _ = try interpreter.run(["tokens": .tokens(window)], outputs: ["logits"], observer: collector)
            progress(index + 1, starts.count)
        }
        collector.lastInput = []
        return collector
    }
}
