import ArgumentParser
import MVLMCheckpoint

@main
struct MVLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvlm",
        abstract: "Turn downloaded checkpoints into compact, verified models for phones.")
}
