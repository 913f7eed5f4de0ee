import ArgumentParser
import Foundation
import MVLMFileIO
import MVLMCheckpoint
import MVLMConversionJob
import MVLMCore
import MVLMModels
import MVLMRuntime
import MVLMTokenizer
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import MVLMModelLoading
#endif

/// Set by SIGINT while an answer is being generated; the generator stops at the next token.
private let interrupted = Atomic<Bool>(false)

/// `mvlm chat`: a conversation in the terminal or through a pipe.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk with a model: each answer streams as it is generated, the history goes through the model's chat template.",
        discussion: """
            MODEL is a checkpoint folder, a GGUF file or an .mvlm file. Each line you type is a user \
            turn; the whole conversation is rendered with the model's chat template (see \
            `mvlm chat-template`) and the answer is printed token by token. Commands:
              /image PATH   attach an image (PNG or JPEG) to your next message (vision models; one per conversation)
              /reset        forget the conversation (and the image)
              /quit         leave (as does Ctrl-D)
            Ctrl-C stops the answer being written (the part written stays in the history); it does \
            not end the program.

            From a pipe (standard input not a terminal) there are no prompts or banners: every \
            input line is one user turn (or a command), and every answer is written to standard \
            output followed by one newline; notes go to standard error. Example:
              printf 'What is the capital of France?\\nAnd of Italy?\\n' | mvlm chat smollm2.mvlm
            """)

    @Argument(help: "A checkpoint folder, GGUF or .mvlm file.")
    var model: String

    @Option(help: ArgumentHelp("An image (PNG or JPEG) for the first message (vision-language models).", valueName: "FILE"))
    var image: String?

    @Option(help: "A system message to start the conversation with.")
    var system: String?

    @Option(help: ArgumentHelp("Where the tokenizer is: a folder, tokenizer.model, tokenizer.json or a .gguf.", valueName: "PATH"))
    var tokenizer: String?

    @OptionGroup var template: ChatTemplateOptions

    @Option(help: ArgumentHelp("The CLIP folder that configures a MobileVLM checkpoint's vision tower when its mm_vision_tower is not a known tower.", valueName: "DIR"))
    var visionTower: String?

    @Option(help: "Most tokens per answer.")
    var maxNewTokens: Int = 512

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let image, !FileManager.default.fileExists(atPath: image) { throw ValidationError("--image: no such file: \(image)") }
    }

    /// One conversation's state.
    struct Conversation {
        var messages: [ChatMessage] = []
        /// The image waiting for the next user message, or the one the conversation holds.
        var imagePath: String?
        var imageUsed = false
        var imageRows: ImageEncoding?
    }

    func run() throws {
        let interactive = isatty(STDIN_FILENO) != 0
        let tokenizer = try TokenizerSource.load(model: model, explicit: self.tokenizer)
        let chatPrompt = try template.prompt(model: model, tokenizer: tokenizer)
        let languageModel = try LanguageModel.load(try Checkpoint.open(model), visionTower: visionTower)
        if tokenizer.vocabularySize > languageModel.vocabularySize {
            throw MVLMError(
                .invalidArgument,
                "the tokenizer has \(tokenizer.vocabularySize) tokens, the model's embedding only \(languageModel.vocabularySize): pass the model's own tokenizer",
                file: model)
        }
        let threadCount = threads ?? Interpreter.processorCount
        var textGenerator: GreedyGenerator?
        var imageGenerator: GreedyGenerator?
        var conversation = Conversation()
        func start() {
            conversation = Conversation()
            if let system { conversation.messages.append(ChatMessage(role: "system", content: system)) }
            conversation.imagePath = image
        }
        start()
        // The binary's signal thread (TemporaryFiles) takes SIGINT; it calls this instead of ending
        // the process. Where that thread does not run, a plain handler does the same.
        if !TemporaryFiles.setInterruptHandler({ interrupted.store(true, ordering: .relaxed) }) {
            signal(SIGINT) { _ in interrupted.store(true, ordering: .relaxed) }
        }
        if interactive {
            note("mvlm chat: \(model) (\(languageModel.architecture), template: \(chatPrompt.origin)). /image PATH, /reset, /quit; Ctrl-C stops an answer.")
        }
        while true {
            if interactive { FileHandle.standardOutput.write(Data("> ".utf8)) }
            interrupted.store(false, ordering: .relaxed)
            guard let line = readLine(strippingNewline: true) else {
                if interactive { FileHandle.standardOutput.write(Data("\n".utf8)) }
                return
            }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input.hasPrefix("/") {
                let parts = input.split(separator: " ", maxSplits: 1).map(String.init)
                switch parts[0] {
                case "/quit", "/exit":
                    return
                case "/reset":
                    start()
                    conversation.imagePath = nil
                    note("(conversation reset)")
                case "/image":
                    guard parts.count == 2, FileManager.default.fileExists(atPath: parts[1]) else {
                        note("usage: /image PATH (an existing PNG or JPEG file)")
                        continue
                    }
                    guard languageModel.multimodal != nil else {
                        note("this model has no vision encoder; /image is not available")
                        continue
                    }
                    if conversation.imageUsed {
                        note("this conversation already has an image; /reset to start one with another")
                        continue
                    }
                    conversation.imagePath = parts[1]
                    note("(image \(parts[1]) goes with your next message)")
                case "/help":
                    note("/image PATH, /reset, /quit; Ctrl-C stops an answer")
                default:
                    note("unknown command \(parts[0]) (/image PATH, /reset, /quit)")
                }
                continue
            }
            do {
                var withImage = false
                if let path = conversation.imagePath, !conversation.imageUsed {
                    _ = try languageModel.requireVision()
                    let pixels = try ImageInput.pixelValues(image: path, tensor: nil, model: languageModel)
                    conversation.imageRows = try languageModel.encodeImage(pixels, threads: threadCount)
                    conversation.imageUsed = true
                    withImage = true
                }
                conversation.messages.append(ChatMessage(role: "user", content: input, hasImage: withImage))
                let text = try chatPrompt.render(conversation.messages, now: ChatTemplateCommand.today())
                let imageID = conversation.imageUsed ? Int(LanguageModel.imageTokenID) : nil
                var ids = chatPrompt.encode(text, with: tokenizer, imageID: imageID).map { Int32($0) }
                var rows: Activation?
                if let encoding = conversation.imageRows {
                    ids = try languageModel.expandImageMarkers(ids)
                    rows = encoding.imageFeatures
                }
                if ids.count + 1 > languageModel.maxPositionEmbeddings {
                    conversation.messages.removeLast()
                    note("the conversation (\(ids.count) tokens) no longer fits the model's \(languageModel.maxPositionEmbeddings) positions; /reset to start again")
                    continue
                }
                let budget = min(maxNewTokens, languageModel.maxPositionEmbeddings - ids.count)
                var generator: GreedyGenerator
                if rows != nil {
                    generator = try imageGenerator ?? GreedyGenerator(multimodal: languageModel, threads: threadCount)
                } else {
                    generator = try textGenerator ?? GreedyGenerator(model: languageModel, threads: threadCount)
                }
                let answer = try stream(&generator, ids: ids, rows: rows, budget: budget, tokenizer: tokenizer)
                if rows != nil { imageGenerator = generator } else { textGenerator = generator }
                conversation.messages.append(ChatMessage(role: "assistant", content: answer))
            } catch {
                // A failed turn is reported and dropped; the conversation goes on.
                if conversation.messages.last?.role == "user" { conversation.messages.removeLast() }
                note("error: \(error)")
                if !interactive { throw error }
            }
        }
    }

    /// Generates an answer, printing it as it comes; returns its text (without special tokens).
    func stream(_ generator: inout GreedyGenerator, ids: [Int32], rows: Activation?, budget: Int, tokenizer: Tokenizer) throws -> String {
        var generated: [Int] = []
        var printed = ""
        let stop = tokenizer.eosID.map { Set([Int32($0)]) } ?? []
        let result = try generator.generate(
            prompt: ids, imageRows: rows, maxNewTokens: budget, stopTokens: stop,
            onToken: { token in
                generated.append(Int(token))
                let full = tokenizer.decode(generated, skipSpecial: true)
                if full.hasPrefix(printed), !full.hasSuffix("\u{FFFD}") {
                    FileHandle.standardOutput.write(Data(full.dropFirst(printed.count).utf8))
                    printed = full
                }
            },
            shouldStop: { interrupted.load(ordering: .relaxed) })
        let answer = tokenizer.decode(result.tokens.map(Int.init), skipSpecial: true)
        let rest = answer.hasPrefix(printed) ? String(answer.dropFirst(printed.count)) : ""
        FileHandle.standardOutput.write(Data((rest + "\n").utf8))
        if interrupted.load(ordering: .relaxed) { note("(stopped)") }
        return answer
    }

    private func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
