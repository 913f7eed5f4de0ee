import ArgumentParser
import Foundation
import MVLMFileIO
import MVLMHDF5

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
        subcommands: [InspectCommand.self, RunCommand.self, ChatCommand.self, ChatTemplateCommand.self, ConvertCommand.self, VerifyCommand.self, BenchCommand.self, DumpCommand.self, SynthCommand.self, PackCommand.self, UnpackCommand.self, TokenizeCommand.self, DetokenizeCommand.self])

    /// Runs the hidden HDF5 worker (`mvlm __hdf5-worker ...`, see `HDF5Worker`) when asked to,
    /// else the commands. HDF5 readers in this process use this binary as their worker.
    static func main() {
        let arguments = CommandLine.arguments
        if arguments.count > 1, arguments[1] == HDF5Worker.commandName {
            Foundation.exit(HDF5Worker.run(Array(arguments.dropFirst(2))))
        }
        HDF5Reader.workerExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        // Ctrl-C, kill and a closed terminal remove the temporary output files (`.NAME.tmp-XXXXXX`).
        TemporaryFiles.removeOnSignals()
        Self.main(nil)
    }
}
