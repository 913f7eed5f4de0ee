import Foundation
import MVLMCore

/// The one JSON writer of every command's `--json` output: pretty-printed, keys sorted, slashes
/// not escaped, non-finite numbers as strings (`MetadataValue`'s encoding).
enum JSONOutput {
    static func text(_ object: [String: MetadataValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }
}
