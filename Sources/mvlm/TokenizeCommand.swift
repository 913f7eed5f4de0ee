import ArgumentParser
import Foundation
import MVLMCore
import MVLMTokenizer

/// `mvlm tokenize`: the token ids of a text, as the model's tokenizer gives them.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text, as the model's tokenizer makes them.",
        discussion: """
            The tokenizer is found as `mvlm run` finds it: the one an .mvlm file carries, \
            tokenizer.model or tokenizer.json beside the model, or a GGUF's vocabulary \
            (tokenizer.ggml.*; vocabulary-only GGUF files such as llama.cpp's ggml-vocab-*.gguf \
            work). The ids are printed on one line separated by spaces; --json prints \
            {"count", "ids", "tokens": [{"id", "token", "text"}]}.

            By default the text is encoded as `mvlm run --prompt` encodes it: the BOS token first \
            when the model asks for one, and special tokens written in the text (<|im_start|>, \
            <s>) read as their ids. --no-bos and --no-parse-special turn these off (llama.cpp's \
            tokenizer tests use both).

            Examples:
              mvlm tokenize SmolLM2-135M-Instruct.Q4_1.gguf --text "Hello, world"
              mvlm tokenize ./MobileLLaMA-1.4B --file prompt.txt --json
              mvlm tokenize ggml-vocab-llama-bpe.gguf --text " Hello" --no-bos --no-parse-special
            """)

    @OptionGroup var source: TokenizerArguments

    @Option(help: "The text to tokenize.")
    var text: String?

    @Option(help: ArgumentHelp("Tokenize the contents of this UTF-8 file (all of it, final newline included).", valueName: "FILE"))
    var file: String?

    @Flag(help: "Do not add the BOS (or EOS) token the model asks for.")
    var noBos = false

    @Flag(help: "Read special tokens written in the text as plain text.")
    var noParseSpecial = false

    @Flag(help: "Print one JSON object with the ids and each token's spelling and text.")
    var json = false

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("pass the text as --text T or --file F (one of them)") }
    }

    func run() throws {
        let input = try text ?? Self.read(file!)
        let tokenizer = try source.load()
        var tokenizerForText = tokenizer
        if noBos { tokenizerForText.addEOS = false }
        let ids = tokenizerForText.encode(input, addBOS: noBos ? false : nil, parseSpecial: !noParseSpecial)
        if json {
            print(try TokenizationJSON.string(.init(ids: ids, count: ids.count, tokens: try tokenizer.entries(of: ids))))
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }

    /// The contents of a UTF-8 text file.
    static func read(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw MVLMError(.notFound, "no such file", file: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MVLMError(.io, "cannot be read", file: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MVLMError(.malformed, "is not valid UTF-8 text", file: path)
        }
        return text
    }
}
