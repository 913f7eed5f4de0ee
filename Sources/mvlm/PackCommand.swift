import ArgumentParser
import MVLMModelFile

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Compress an .mvlm file into its zstd distribution form (.mvlm.zst).",
        discussion: """
            The result is one standard zstd frame whose content is the exact .mvlm file, so it \
            unpacks with `mvlm unpack` (which also checks every tensor's checksum) or `zstd -d`.

            Example:
              mvlm pack model.mvlm -o model.mvlm.zst
            """)

    @Argument(help: "The .mvlm file.")
    var input: String

    @Option(name: [.customShort("o"), .long], help: "The .mvlm.zst file to write.")
    var output: String

    @Option(parsing: .unconditional, help: "zstd level, 1 (fast) to 19 (small).")
    var level: Int32 = 9

    func validate() throws {
        guard (1...19).contains(level) else { throw ValidationError("--level must be 1...19") }
    }

    func run() throws {
        try InputPaths.check([input])
        try ModelFilePacking.pack(input, to: output, level: level)
    }
}
