import ArgumentParser
import Foundation
import MVLMCore
import MVLMTokenizer

/// `mvlm detokenize`: the text of token ids, as the model's tokenizer decodes them.
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Print the text of token ids, as the model's tokenizer decodes them.",
        discussion: """
            The tokenizer is found as for `mvlm tokenize`. --ids takes integers separated by \
            commas or spaces (`1,2,3`, "1 2 3", "[1, 2, 3]"), so the output of `mvlm tokenize` \
            can be passed back. An id outside the vocabulary is an error. Special tokens appear as \
            their text unless --skip-special is given. --json prints {"count", "ids", "text", \
            "tokens": [{"id", "token", "text"}]}.

            Example:
              mvlm detokenize SmolLM2-135M-Instruct.Q4_1.gguf --ids 19556,28,905
            """)

    @OptionGroup var source: TokenizerArguments

    @Option(help: ArgumentHelp("The token ids, separated by commas or spaces.", valueName: "IDS"))
    var ids: String

    @Flag(help: "Leave out special tokens (BOS, EOS, control tokens).")
    var skipSpecial = false

    @Flag(help: "Print one JSON object with the text and each token's spelling and text.")
    var json = false

    func run() throws {
        let list = try Tokenizer.ids(parsing: ids)
        let tokenizer = try source.load()
        let text = try tokenizer.decodeChecked(list, skipSpecial: skipSpecial)
        if json {
            print(try TokenizationJSON.string(
                .init(ids: list, count: list.count, tokens: try tokenizer.entries(of: list), text: text)))
        } else {
            print(text)
        }
    }
}
