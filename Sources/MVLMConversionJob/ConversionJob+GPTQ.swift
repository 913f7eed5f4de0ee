import Foundation
import MVLMConvert
import MVLMCore
import MVLMModels
import MVLMQuant
import MVLMVerify

/// `mvlm convert --calibrate FILE --gptq`: the second moment of every linear layer's input, handed
/// to the converter as GPTQ statistics (and its diagonal as the scale search's importance weights).
extension ConversionJob {
    static func calibrateGPTQ(
        _ converter: inout ModelConverter, model: LanguageModel, ids: [Int32], context: Int, threads: Int, input: String,
        progress: @escaping (Int, Int) -> Void
    ) throws {
        let collector = try SecondMomentCollector.collect(model: model, tokens: ids, context: context, threads: threads, progress: progress)
        let statistics = collector.moments.map { GPTQStatistics(hessian: $0.symmetric, columns: $0.columns, tokens: $0.tokens) }
        for (name, index) in collector.inputOf {
            converter.gptq[name] = statistics[index]
            converter.importance[name] = statistics[index].meanSquares
        }
        let bytes = collector.moments.reduce(0) { $0 + $1.columns * $1.columns * 8 }
        converter.calibration = .object([
            "input": .string((input as NSString).lastPathComponent), "tokens": .int(Int64(ids.count)),
            "context": .int(Int64(context)), "layers": .int(Int64(collector.inputOf.count)),
            "gptq": .object([
                "inputs": .int(Int64(collector.moments.count)), "second_moment_bytes": .int(Int64(bytes)),
                "damping": .float(0.01),
            ]),
        ])
    }
}
