import ArgumentParser
import MVLMConversionJob

/// `mvlm convert --format gguf`: the same plan and streaming converter, written as llama.cpp GGUF
/// files (docs/gguf-export.md; `ConversionJob` does the work).
extension ConvertCommand {
    typealias OutputFormat = ConversionOptions.OutputFormat

    /// `--format`, or else the output's extension (`.gguf` → gguf), or else mvlm.
    var outputFormat: OutputFormat { format ?? ConversionOptions.format(forOutput: output) }

    func validateGGUFOptions() throws {
        guard outputFormat == .gguf else {
            if mmproj != nil { throw ValidationError("--mmproj goes with --format gguf") }
            return
        }
        if verify { throw ValidationError("--verify checks .mvlm files; verify a GGUF with llama.cpp (docs/gguf-export.md), or convert to .mvlm") }
    }
}
