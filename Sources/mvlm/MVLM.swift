import ArgumentParser

@main
struct MVLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvlm",
        abstract: "Turn downloaded checkpoints into compact, verified models for phones.",
        discussion: """
            Reads safetensors (single or sharded), PyTorch .bin/.pt (zip-pickle, single or sharded), \
            HDF5 (Keras 3 .weights.h5, tf_model.h5), GGUF and .mvlm files, or a Hugging Face folder \
            holding them, and writes compact .mvlm model files (see `mvlm convert --help`).

            Exit codes: 0 success; 1 the input is invalid or an operation failed (one-line reason \
            on stderr); 3 `verify` found the file over its accuracy budget; 64 bad command-line usage.
            """,
        subcommands: [InspectCommand.self, RunCommand.self, ChatCommand.self, ChatTemplateCommand.self, ConvertCommand.self, VerifyCommand.self, BenchCommand.self, DumpCommand.self, SynthCommand.self, PackCommand.self, UnpackCommand.self])
}
