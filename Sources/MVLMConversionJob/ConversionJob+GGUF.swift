import Foundation
import MVLMConvert
import MVLMCore
import MVLMGGUF
import MVLMGGUFExport

/// GGUF output (`convert --format gguf`): the same plan and streaming converter, written as
/// llama.cpp GGUF files (docs/gguf-export.md). GGUF files are not verified here (verify them with
/// llama.cpp, or convert to .mvlm).
extension ConversionJob {
    func export(converter: ModelConverter, engineConfig: [String: MetadataValue]) throws -> GGUFExport {
        let input: GGUFExport.TokenizerInput
        switch try tokenizerSource() {
        case .files(let files, let origin): input = .files(files, origin: origin)
        case .gguf(let keys, _): input = .ggufMetadata(keys)
        case nil: input = .none
        }
        return try GGUFExport.make(converter: converter, tokenizer: input, resolvedConfig: engineConfig)
    }

    func projectorPath(_ export: GGUFExport) -> String? {
        export.visionProjector == nil ? nil : (options.projectorPath ?? options.output.map(ConversionOptions.projectorPath(forOutput:)))
    }

    func ggufDryRun(converter: ModelConverter, engineConfig: [String: MetadataValue]) throws -> ConversionDryRun {
        let export = try export(converter: converter, engineConfig: engineConfig)
        var unfused = converter.plan
        unfused.decisions = export.languageModel.decisions + (export.visionProjector?.decisions ?? [])
        let parts = [("language model", export.languageModel, options.output)]
            + (export.visionProjector.map { [("vision projector", $0, projectorPath(export))] } ?? [])
        var described: [ConversionDryRun.GGUFPart] = []
        for (label, part, file) in parts {
            described.append(.init(
                label: label, path: file, tensors: part.tensors.count, metadataKeys: part.metadata.count,
                bytes: try GGUFWriter.fileSize(metadata: part.metadata, tensors: part.tensors), dropped: part.dropped))
        }
        return ConversionDryRun(plan: unfused, predictedBytes: described.reduce(0) { $0 + $1.bytes }, ggufParts: described)
    }

    func writeGGUF(
        converter: ModelConverter, engineConfig: [String: MetadataValue], output: String,
        progress: (ConversionStage, Int, Int) -> Void
    ) throws -> ConversionResult {
        if options.verification == .required {
            throw MVLMError(.invalidArgument, "--verify checks .mvlm files; verify a GGUF with llama.cpp (docs/gguf-export.md), or convert to .mvlm")
        }
        let export = try export(converter: converter, engineConfig: engineConfig)
        let start = Date()
        let paths = try export.write(to: output, projectorPath: projectorPath(export)) { progress(.converting, $0, $1) }
        var files: [ConversionResult.File] = []
        for (path, part) in zip(paths, [export.languageModel] + (export.visionProjector.map { [$0] } ?? [])) {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            files.append(.init(path: path, bytes: size, tensors: part.tensors.count, metadataKeys: part.metadata.count))
        }
        return ConversionResult(
            plan: converter.plan, files: files, predictedBytes: nil, seconds: Date().timeIntervalSince(start),
            calibrated: !converter.importance.isEmpty, verification: nil,
            verificationSkipped: options.verification == .off ? "--no-verify" : "GGUF output (verify it with llama.cpp)",
            verificationSeconds: 0)
    }
}
