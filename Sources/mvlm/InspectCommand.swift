import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMModels
import MVLMModelLoading

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors, totals, config and architecture of a checkpoint.",
        discussion: """
            PATH is a weights file (.safetensors, .bin/.pt/.pth, .gguf, .h5) or a folder with \
            config.json and weights (sharded checkpoints are read through their .index.json). Only \
            headers are read: listing a multi-GB checkpoint takes milliseconds.

            Examples:
              mvlm inspect model.safetensors
              mvlm inspect ./MobileVLM_V2-1.7B
              mvlm inspect SmolLM2-135M-Instruct.Q4_1.gguf --json | jq '.tensors | length'
              mvlm inspect ./MobileLLaMA-1.4B --graph         # the engine's graph, checked

            --json prints one object: format, architecture, tensors [{name, dtype, shape, bytes, \
            file}], totals, config, metadata (schema in docs/inspect-json.md).
            """)

    @Argument(help: "A weights file or a checkpoint folder.")
    var path: String

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "Print the computation graph the engine builds for the checkpoint (one op per line) instead of the table.")
    var graph = false

    @Option(help: ArgumentHelp("With --graph: the CLIP folder that configures a MobileVLM checkpoint's vision tower (see mvlm run --help).", valueName: "DIR"))
    var visionTower: String?

    func run() throws {
        try InputPaths.check([path, visionTower])
        let checkpoint = try Checkpoint.open(path)
        if graph {
            let model = try LanguageModel.load(checkpoint, visionTower: visionTower)
            print(model.graph.description)
            if let vision = model.multimodal {
                print("\n# vision encoder (tower + projector):")
                print(vision.vision.description)
            }
            for unused in model.unusedTensors { print("# unused: \(unused)") }
            return
        }
        let report = InspectReport(checkpoint: checkpoint)
        if json {
            print(try report.jsonString())
        } else {
            print(report.text(width: Terminal.columns))
        }
    }
}
