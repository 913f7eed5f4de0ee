import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModelFile

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an .mvlm file.",
        discussion: """
            --integrity recomputes the CRC-32 of every tensor and compares it with the manifest \
            (exit 0 when all match, 1 naming the damaged tensors otherwise).

            Example:
              mvlm verify model.mvlm --integrity
            """)

    @Argument(help: "The .mvlm file.")
    var model: String

    @Flag(help: "Check every tensor's checksum.")
    var integrity = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard integrity else {
            throw ValidationError("say what to verify: --integrity (accuracy against a source comes with --against)")
        }
    }

    func run() throws {
        let reader = try ModelFileReader(path: model)
        let bar = ProgressBar(label: "verify")
        let failures = reader.verifyIntegrity { done, total in bar.update(done: done, total: total) }
        bar.finish()
        let bytes = reader.tensorInfos.reduce(0) { $0 + $1.byteCount }
        if json {
            let object: [String: MetadataValue] = [
                "file": .string(model), "tensors": .int(Int64(reader.tensorInfos.count)), "bytes": .int(Int64(bytes)),
                "damaged": .array(failures.map { .string($0) }, elementType: "JSON"), "passed": .bool(failures.isEmpty),
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(object), as: UTF8.self))
        } else if failures.isEmpty {
            print("\(model): all \(reader.tensorInfos.count) tensors match their checksums (\(ByteCountText.format(bytes)))")
        }
        if !failures.isEmpty {
            throw MVLMError(
                .malformed,
                "\(failures.count) of \(reader.tensorInfos.count) tensors fail their checksum: \(failures.prefix(5).joined(separator: ", "))\(failures.count > 5 ? ", ..." : "")",
                file: model)
        }
    }
}
