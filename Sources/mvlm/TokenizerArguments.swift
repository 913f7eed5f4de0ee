import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMConversionJob
import MVLMCore
import MVLMTokenizer

/// The model argument and `--tokenizer` option that `tokenize` and `detokenize` share, and the
/// tokenizer they name (found as `mvlm run` finds it: `TokenizerSource`).
struct TokenizerArguments: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "A model folder (tokenizer.model or tokenizer.json), a tokenizer file, a GGUF file (vocabulary-only ones too) or an .mvlm file.",
        valueName: "MODEL"))
    var model: String

    @Option(help: ArgumentHelp("Take the tokenizer from here instead: a folder, tokenizer.model, tokenizer.json or a .gguf.", valueName: "PATH"))
    var tokenizer: String?

    /// The tokenizer `mvlm run MODEL` would use.
    /// - Throws: `MVLMError` when the path does not exist, cannot be read, or holds no tokenizer.
    func load() throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) else {
            throw MVLMError(.notFound, "no such file or folder", file: model)
        }
        do {
            return try TokenizerSource.load(model: model, explicit: tokenizer)
        } catch let error as MVLMError where error.code == .notFound && tokenizer == nil && !isDirectory.boolValue {
            // The search skips files it cannot open; say why this one could not be read, if it
            // could not (a truncated GGUF), rather than only that no tokenizer was found.
            _ = try Checkpoint.open(model)
            throw error
        }
    }
}

/// JSON for `tokenize --json` and `detokenize --json`: keys sorted, one line.
enum TokenizationJSON {
    struct Report: Encodable {
        var ids: [Int]
        var count: Int
        var tokens: [Tokenizer.TokenEntry]
        var text: String?
    }

    static func string(_ report: Report) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
