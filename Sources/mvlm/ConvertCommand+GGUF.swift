import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMGGUF

/// `mvlm convert --format gguf`: the same plan and streaming converter, written as llama.cpp GGUF
/// files (docs/gguf-export.md).
extension ConvertCommand {
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case mvlm, gguf
    }

    /// `--format`, or else the output's extension (`.gguf` → gguf), or else mvlm.
    var outputFormat: OutputFormat {
        if let format { return format }
        return output?.lowercased().hasSuffix(".gguf") == true ? .gguf : .mvlm
    }

    /// Where the vision-projector GGUF goes: `--mmproj`, or `OUT.mmproj.gguf` beside `OUT.gguf`.
    static func projectorPath(forOutput output: String) -> String {
        let base = output.lowercased().hasSuffix(".gguf") ? String(output.dropLast(5)) : output
        return base + ".mmproj.gguf"
    }

    func validateGGUFOptions() throws {
        guard outputFormat == .gguf else {
            if mmproj != nil { throw ValidationError("--mmproj goes with --format gguf") }
            return
        }
        if verify { throw ValidationError("--verify checks .mvlm files; verify a GGUF with llama.cpp (docs/gguf-export.md), or convert to .mvlm") }
    }

    /// The tokenizer to embed (--tokenizer or the source's own), with --chat-template's template.
    func tokenizerSource() throws -> TokenizerSource? {
        let found = try TokenizerSource.find(model: source, explicit: tokenizer)
        guard template.chatTemplate != nil else { return found }
        guard let found else {
            throw MVLMError(.notFound, "the source has no tokenizer to carry the template; pass --tokenizer PATH", file: source, subject: "--chat-template")
        }
        return found.replacingChatTemplate(with: try template.overrideText(tokenizer: try found.tokenizer())!)
    }

    /// - Parameter engineConfig: the config with the vision tower resolved (for the mmproj).
    func convertToGGUF(converter: ModelConverter, engineConfig: [String: MetadataValue]) throws {
        let input: GGUFExport.TokenizerInput
        switch try tokenizerSource() {
        case .files(let files, let origin): input = .files(files, origin: origin)
        case .gguf(let keys, _): input = .ggufMetadata(keys)
        case nil: input = .none
        }
        let export = try GGUFExport.make(converter: converter, tokenizer: input, resolvedConfig: engineConfig)
        let projectorPath = export.visionProjector == nil ? nil : (mmproj ?? output.map(Self.projectorPath(forOutput:)))
        if dryRun {
            let plan = converter.plan
            var unfused = plan
            unfused.decisions = export.languageModel.decisions + (export.visionProjector?.decisions ?? [])
            let parts = [("language model", export.languageModel, output)] + (export.visionProjector.map { [("vision projector", $0, projectorPath)] } ?? [])
            var total = 0
            for (_, part, _) in parts { total += try GGUFWriter.fileSize(metadata: part.metadata, tensors: part.tensors) }
            try printPlan(unfused, predictedSize: total)
            for (label, part, file) in parts {
                let size = try GGUFWriter.fileSize(metadata: part.metadata, tensors: part.tensors)
                print("  GGUF \(label) \(file ?? ""): \(part.tensors.count) tensors, \(part.metadata.count) metadata keys, \(size) bytes")
                for dropped in part.dropped { print("    left out \(dropped.name): \(dropped.reason)") }
            }
            return
        }
        let bar = ProgressBar(label: "convert")
        let start = Date()
        let files = try export.write(to: output!, projectorPath: projectorPath) { done, total in bar.update(done: done, total: total) }
        bar.finish()
        let seconds = Date().timeIntervalSince(start)
        var records: [MetadataValue] = []
        for (file, part) in zip(files, [export.languageModel] + (export.visionProjector.map { [$0] } ?? [])) {
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            records.append(.object([
                "output": .string(file), "bytes": .int(Int64(size)), "tensors": .int(Int64(part.tensors.count)),
                "metadata_keys": .int(Int64(part.metadata.count)),
            ]))
            if !json {
                print("wrote \(file): GGUF, \(part.tensors.count) tensors, \(part.metadata.count) metadata keys, \(ByteCountText.format(size)), preset \(quant), in \(String(format: "%.1f", seconds)) s")
            }
        }
        if json {
            print(try Self.jsonText([
                "format": .string("gguf"), "files": .array(records, elementType: "JSON"), "preset": .string(quant),
                "seconds": .float(seconds), "calibrated": .bool(!converter.importance.isEmpty),
            ]))
        }
    }
}
