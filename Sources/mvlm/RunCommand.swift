import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMConversionJob
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMRuntime
import MVLMTokenizer
import MVLMNumPy
import MVLMModelLoading

/// `mvlm run`: generation with the engine, greedy unless sampling flags ask otherwise.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model (checkpoint, GGUF or .mvlm): greedy decoding or sampling from token ids or a text prompt.",
        discussion: """
            MODEL is a checkpoint folder (config.json + weights), a weights file next to a \
            config.json, or an .mvlm file. The prompt is processed in one pass; new tokens are then \
            generated one at a time, by default always taking the most likely token (greedy). \
            --temperature, --top-k, --top-p, --min-p, --repetition-penalty and --seed sample \
            instead, with transformers' filters in transformers' order; --sampling model starts \
            from the model's generation_config.json. --stop TEXT ends the answer before TEXT.

            With --tokens the prompt is token ids and the generated ids go to stdout. With --prompt \
            the text is tokenized (tokenizer.model or tokenizer.json beside the model, a GGUF's \
            vocabulary, or --tokenizer PATH), the answer is printed as text while it is generated, \
            and generation stops at the end-of-sequence token. Timings and notes go to stderr.

            Examples:
              mvlm run ./MobileLLaMA-1.4B --tokens 1,450,4996 --max-new-tokens 16
              mvlm run ./smollm2-float --tokenizer SmolLM2-135M-Instruct.Q4_1.gguf --prompt "The capital of France is"
              mvlm run smollm2-q8.mvlm --chat --prompt "What is the capital of France?"
              mvlm run smollm2-q8.mvlm --prompt "Once upon a time" --temperature 0.8 --top-p 0.9 --seed 7 --stop "\\n\\n"

            --chat renders the model's own chat template (chat_template.jinja, chat_template.json, \
            tokenizer_config.json or GGUF tokenizer.chat_template; MobileVLM's conversation format is \
            built in) around the prompt, as transformers' apply_chat_template does \
            (docs/chat-templates.md); --chat-template FILE|NAME picks another. For a conversation, \
            use `mvlm chat`.
            """)

    @Argument(help: "A checkpoint folder or weights file.")
    var model: String

    @Option(help: "Prompt token ids, comma-separated (e.g. 1,450,4996).")
    var tokens: String?

    @Option(help: "Prompt text, tokenized with the model's tokenizer.")
    var prompt: String?

    @Option(help: ArgumentHelp("Where the tokenizer is: a folder, tokenizer.model, tokenizer.json or a .gguf.", valueName: "PATH"))
    var tokenizer: String?

    @Flag(help: "Wrap --prompt in the model's chat template (one user turn, then the assistant's turn opens).")
    var chat = false

    @OptionGroup var template: ChatTemplateOptions

    @Option(help: ArgumentHelp("An image (PNG or JPEG) for a vision-language model; preprocessed as the model's CLIP processor does.", valueName: "FILE"))
    var image: String?

    @Option(help: ArgumentHelp("An already-preprocessed image: a float32 .npy of shape [3, S, S] (S = 336 for MobileVLM).", valueName: "FILE.npy"))
    var imageTensor: String?

    @Option(help: ArgumentHelp("The CLIP folder (config.json, optional preprocessor_config.json) that configures a MobileVLM checkpoint's vision tower when its mm_vision_tower is not a known tower.", valueName: "DIR"))
    var visionTower: String?

    @OptionGroup(title: "Sampling") var samplingArguments: SamplingArguments

    @Option(parsing: .unconditional, help: "Number of tokens to generate (capped at what fits in the model's context).")
    var maxNewTokens: Int = 16

    @Flag(help: "Skip the CRC-32 check of an .mvlm file's tensors at load (measured cost in docs/reliability.md).")
    var noVerifyChecksums = false

    @Option(help: "Write the logits at every prompt position to this float32 .npy file ([prompt length, vocabulary]).")
    var logitsOut: String?

    @Option(parsing: .unconditional, help: "Kernel threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if tokens != nil && prompt != nil { throw ValidationError("pass either --tokens or --prompt, not both") }
        if chat && prompt == nil { throw ValidationError("--chat formats a --prompt TEXT") }
        if template.chatTemplate != nil && !chat { throw ValidationError("--chat-template goes with --chat") }
        if tokens == nil && prompt == nil { throw ValidationError("pass the prompt as --prompt TEXT or --tokens 1,2,3") }
        if maxNewTokens < 0 { throw ValidationError("--max-new-tokens must be 0 or more") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if image != nil && imageTensor != nil { throw ValidationError("pass either --image or --image-tensor, not both") }
        if !samplingArguments.stopStrings.isEmpty && prompt == nil { throw ValidationError("--stop ends a --prompt's text answer") }
    }

    /// Whether an image was given.
    var hasImage: Bool { image != nil || imageTensor != nil }

    /// Parses `1,2,3` (spaces allowed) into token ids.
    static func parseTokens(_ text: String) throws -> [Int32] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts != [""] else { throw ValidationError("--tokens is empty") }
        return try parts.map { part in
            guard !part.isEmpty else { throw ValidationError("--tokens: an empty field between commas in '\(text.prefix(40))'") }
            guard let id = Int32(part), id >= 0 || id == LanguageModel.imageTokenID else {
                throw ValidationError("--tokens: '\(part)' is not a token id (a non-negative integer, or -200 where the image goes)")
            }
            return id
        }
    }

    func run() throws {
        try InputPaths.check([model, tokens, tokenizer, image, imageTensor, visionTower])
        if noVerifyChecksums { ModelFileReader.verifiesChecksumsByDefault = false }
        if let text = self.prompt { return try runText(text) }
        var prompt = try Self.parseTokens(tokens!)
        let checkpoint = try Checkpoint.open(model)
        let languageModel = try LanguageModel.load(checkpoint, visionTower: visionTower)
        let sampling = try samplingArguments.options { try checkpoint.generationConfig() }
        let imageRows = try encodeImage(languageModel, prompt: &prompt)
        let maxNewTokens = try newTokenBudget(languageModel, promptLength: prompt.count)
        if !languageModel.unusedTensors.isEmpty && !json {
            printError(Self.unusedSummary(languageModel.unusedTensors))
        }
        var generator = try makeGenerator(languageModel, multimodal: imageRows != nil)
        let result = try generator.generate(
            prompt: prompt, imageRows: imageRows?.imageFeatures, maxNewTokens: maxNewTokens, keepPromptLogits: logitsOut != nil,
            sampling: sampling)
        if let logitsOut, let logits = result.promptLogits {
            try NumPyFile.writeFloat32(logits.values, shape: logits.shape, to: logitsOut)
        }
        let decodeSteps = max(result.tokens.count - 1, 0)
        if json {
            var object: [String: Any] = [
                "architecture": languageModel.architecture,
                "prompt": prompt.map(Int.init),
                "generated": result.tokens.map(Int.init),
                "prefill_seconds": result.prefillSeconds,
                "decode_seconds": result.decodeSeconds,
                "threads": generator.interpreter.threads,
                "unused_tensors": languageModel.unusedTensors.map { ["name": $0.name, "reason": $0.reason] },
                "kernel_paths": KernelPathReport(generator.interpreter, promptTokens: prompt.count).jsonObject,
            ]
            if let imageRows { object["image_encode_seconds"] = imageRows.seconds }
            if sampling != .greedy { object["sampling"] = try Self.jsonObject(sampling) }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(result.tokens.map(String.init).joined(separator: " "))
            let prefillRate = Double(prompt.count) / max(result.prefillSeconds, 1e-9)
            var line = String(format: "prefill: %d tokens in %.3f s (%.1f tokens/s)", prompt.count, result.prefillSeconds, prefillRate)
            if decodeSteps > 0 {
                line += String(format: "; decode: %d tokens in %.3f s (%.2f tokens/s)", decodeSteps, result.decodeSeconds, Double(decodeSteps) / max(result.decodeSeconds, 1e-9))
            }
            printError(line + "; threads: \(generator.interpreter.threads)")
        }
    }

    /// `--prompt`: tokenize, generate, and print the text as it is produced.
    func runText(_ text: String) throws {
        let tokenizer = try TokenizerSource.load(model: model, explicit: self.tokenizer)
        var text = text
        var ids: [Int32]
        if chat {
            let chatPrompt = try template.prompt(model: model, tokenizer: tokenizer)
            text = try chatPrompt.render([ChatMessage(role: "user", content: text, hasImage: hasImage)], now: ChatTemplateCommand.today())
            ids = chatPrompt.encode(text, with: tokenizer, imageID: hasImage ? Int(LanguageModel.imageTokenID) : nil).map { Int32($0) }
        } else {
            if hasImage && !text.contains("<image>") { text = "<image>\n" + text }
            // `<image>` becomes the image marker (-200), as MobileVLM's tokenizer_image_token does.
            ids = (hasImage ? tokenizer.encode(text, imagePlaceholder: "<image>", imageID: Int(LanguageModel.imageTokenID)) : tokenizer.encode(text)).map { Int32($0) }
        }
        guard !ids.isEmpty else { throw ValidationError("--prompt is empty after tokenization") }
        let checkpoint = try Checkpoint.open(model)
        let languageModel = try LanguageModel.load(checkpoint, visionTower: visionTower)
        let sampling = try samplingArguments.options { try checkpoint.generationConfig() }
        let stops = try StopStrings(samplingArguments.stopStrings)
        let imageRows = try encodeImage(languageModel, prompt: &ids)
        let maxNewTokens = try newTokenBudget(languageModel, promptLength: ids.count)
        if tokenizer.vocabularySize > languageModel.vocabularySize {
            throw MVLMError(
                .invalidArgument,
                "the tokenizer has \(tokenizer.vocabularySize) tokens, the model's embedding only \(languageModel.vocabularySize): pass the model's own tokenizer",
                file: model)
        }
        var generator = try makeGenerator(languageModel, multimodal: imageRows != nil)
        var generated: [Int] = []
        var printed = ""
        var stoppedText: String?
        let stop = tokenizer.eosID.map { Set([Int32($0)]) } ?? []
        let result = try generator.generate(
            prompt: ids, imageRows: imageRows?.imageFeatures, maxNewTokens: maxNewTokens, stopTokens: stop, sampling: sampling,
            onToken: { token in
                generated.append(Int(token))
                // Decode everything so far and print what is new (a character may span tokens);
                // text that may begin a stop string waits until it cannot.
                let full = tokenizer.decode(generated, skipSpecial: true)
                if let cut = stops.truncate(full) { stoppedText = cut }
                guard !json, !full.hasSuffix("\u{FFFD}") else { return }
                let showable = stoppedText.map { Substring($0) } ?? stops.showable(full)
                if showable.hasPrefix(printed), showable.count > printed.count {
                    FileHandle.standardOutput.write(Data(showable.dropFirst(printed.count).utf8))
                    printed = String(showable)
                }
            },
            shouldStop: { stoppedText != nil })
        let answer = stoppedText ?? tokenizer.decode(result.tokens.map(Int.init), skipSpecial: true)
        let steps = max(result.tokens.count - 1, 0)
        let rate = Double(steps) / max(result.decodeSeconds, 1e-9)
        if json {
            var object: [String: Any] = [
                "prompt": text, "prompt_tokens": ids.map(Int.init), "generated": result.tokens.map(Int.init), "text": answer,
                "prefill_seconds": result.prefillSeconds, "decode_seconds": result.decodeSeconds,
                "decode_tokens_per_second": rate, "threads": generator.interpreter.threads,
                "kernel_paths": KernelPathReport(generator.interpreter, promptTokens: ids.count).jsonObject,
            ]
            if sampling != .greedy { object["sampling"] = try Self.jsonObject(sampling) }
            if stoppedText != nil { object["stopped_at_stop_string"] = true }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let rest = answer.hasPrefix(printed) ? String(answer.dropFirst(printed.count)) : ""
        FileHandle.standardOutput.write(Data((rest + "\n").utf8))
        printError(String(
            format: "%d prompt tokens in %.3f s; %d new tokens, %.2f tokens/s; threads: %d", ids.count, result.prefillSeconds,
            result.tokens.count, rate, generator.interpreter.threads))
    }

    /// `--max-new-tokens`, capped at what fits in the model's context (said on stderr when it
    /// does); a prompt longer than the context is an error.
    func newTokenBudget(_ model: LanguageModel, promptLength: Int) throws -> Int {
        let budget = try model.newTokenBudget(promptLength: promptLength, requested: maxNewTokens)
        if budget < maxNewTokens {
            printError("note: generating at most \(budget) tokens: the prompt's \(promptLength) positions and the answer must fit in max_position_embeddings \(model.maxPositionEmbeddings)")
        }
        return budget
    }

    func makeGenerator(_ model: LanguageModel, multimodal: Bool) throws -> GreedyGenerator {
        let threads = self.threads ?? Interpreter.processorCount
        return multimodal ? try GreedyGenerator(multimodal: model, threads: threads) : try GreedyGenerator(model: model, threads: threads)
    }

    /// Encodes --image / --image-tensor and expands the prompt's image marker to one position per
    /// image row; nil without an image (a prompt with -200 but no image is an error).
    func encodeImage(_ model: LanguageModel, prompt: inout [Int32]) throws -> ImageEncoding? {
        let markers = prompt.filter { $0 == LanguageModel.imageTokenID }.count
        guard hasImage else {
            if markers > 0 { throw ValidationError("the prompt holds the image marker -200 but no --image or --image-tensor was given") }
            return nil
        }
        guard markers == 1 else {
            throw ValidationError("the prompt must hold the image marker -200 exactly once (found \(markers)); put it where the image goes")
        }
        let pixels = try ImageInput.pixelValues(image: image, tensor: imageTensor, model: model)
        let encoding = try model.encodeImage(pixels, threads: threads ?? Interpreter.processorCount)
        prompt = try model.expandImageMarkers(prompt)
        if !json {
            printError(String(format: "image: %d rows from the vision encoder in %.3f s", encoding.imageFeatures.shape[0], encoding.seconds))
        }
        return encoding
    }

    /// `options` as a JSON object (SamplingOptions' Codable keys: `temperature`, `top_k`…).
    static func jsonObject(_ options: SamplingOptions) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(options))
    }

    /// One line per reason: how many unused tensors and a few names.
    static func unusedSummary(_ unused: [UnusedTensor]) -> String {
        var groups: [(reason: String, names: [String])] = []
        for tensor in unused {
            if let index = groups.firstIndex(where: { $0.reason == tensor.reason }) {
                groups[index].names.append(tensor.name)
            } else {
                groups.append((tensor.reason, [tensor.name]))
            }
        }
        var lines = ["note: \(unused.count) tensor(s) in the checkpoint are not used:"]
        for group in groups {
            let shown = group.names.prefix(3).joined(separator: ", ")
            let more = group.names.count > 3 ? ", ... (\(group.names.count) in all)" : ""
            lines.append("  \(group.reason): \(shown)\(more)")
        }
        return lines.joined(separator: "\n")
    }

    private func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
