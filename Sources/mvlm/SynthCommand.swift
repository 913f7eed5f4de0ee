import ArgumentParser
import Foundation
import MVLMCore
import MVLMSynthetic

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a random-weight Hugging Face checkpoint with a real model's shapes.",
        discussion: """
            For benchmarks and conversion trials without downloading weights. The folder gets \
            config.json and model.safetensors (or pytorch_model.bin). Values are uniform with \
            LLaMA's initializer std (0.02), norms are ones, and a given --seed always gives the \
            same bytes. Writing streams: memory stays at a few MB whatever the model's size.

            Presets:
            \(SyntheticPreset.all.map { "  \($0.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n"))

            Example:
              mvlm synth --preset mobilellama-1.4b -o /tmp/ml14 --dtype f16
              mvlm synth --preset mobilevlm-v2-1.7b -o /tmp/mvlm2   # bf16 pytorch_model.bin, tower + LDPv2 + decoder
            """)

    @Option(help: "The model shape to write (see the list above).")
    var preset: String

    @Option(name: [.customShort("o"), .long], help: "The folder to write.")
    var output: String

    @Option(help: "Weight dtype: f16, bf16 or f32 (default: the real checkpoint's, f16 for MobileLLaMA, bf16 for MobileVLM).")
    var dtype: String?

    @Option(help: "Weights file format: safetensors or bin (default: the real checkpoint's, pytorch_model.bin for MobileVLM).")
    var format: String?

    @Option(parsing: .unconditional, help: "Random seed.")
    var seed: UInt64 = 0

    func validate() throws {
        guard SyntheticPreset.named(preset) != nil else {
            throw ValidationError("unknown preset '\(preset)'; choose one of: \(SyntheticPreset.all.map(\.name).joined(separator: ", "))")
        }
        if let dtype, Self.dtypes[dtype.lowercased()] == nil {
            throw ValidationError("--dtype must be f16, bf16 or f32, not '\(dtype)'")
        }
        if let format, SyntheticCheckpointWriter.WeightsFormat(rawValue: format) == nil {
            throw ValidationError("--format must be safetensors or bin, not '\(format)'")
        }
    }

    static let dtypes: [String: DType] = ["f16": .float16, "bf16": .bfloat16, "f32": .float32]

    func run() throws {
        let chosen = SyntheticPreset.named(preset)!
        let dtype = self.dtype.map { Self.dtypes[$0.lowercased()]! } ?? chosen.defaultDType
        let format = SyntheticCheckpointWriter.WeightsFormat(rawValue: self.format ?? chosen.defaultFormat)!
        let writer = SyntheticCheckpointWriter(preset: chosen, dtype: dtype, format: format, seed: seed)
        let bar = ProgressBar(label: "synth \(chosen.name)")
        let start = Date()
        try writer.write(to: output) { done, total in bar.update(done: done, total: total) }
        bar.finish()
        let seconds = Date().timeIntervalSince(start)
        print("wrote \(output): \(chosen.name), \(chosen.parameterCount) parameters, \(dtype.name.lowercased()), \(format.rawValue), in \(String(format: "%.1f", seconds)) s")
    }
}
