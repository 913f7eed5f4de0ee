import ArgumentParser
import MVLMModelFile

struct UnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Restore an .mvlm file from its zstd distribution form, checking every tensor.",
        discussion: """
            Nothing appears under the output name unless the unpacked file is a valid .mvlm whose \
            tensors all match their CRC-32 checksums.

            Example:
              mvlm unpack model.mvlm.zst -o model.mvlm
            """)

    @Argument(help: "The .mvlm.zst file.")
    var input: String

    @Option(name: [.customShort("o"), .long], help: "The .mvlm file to write.")
    var output: String

    func run() throws {
        try InputPaths.check([input])
        try ModelFilePacking.unpack(input, to: output)
    }
}
