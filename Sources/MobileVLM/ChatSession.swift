import MVLMCore
import MVLMModels
import MVLMRuntime
import MVLMTokenizer

/// A conversation with a model: each prompt is added to the history, rendered with the model's
/// chat template, and answered; the answer joins the history. In the spirit of mlx-swift-lm's
/// `ChatSession`.
///
///     let session = ChatSession(model, options: GenerationOptions(maxNewTokens: 64))
///     for try await piece in session.streamResponse(to: "Describe the image.", image: photo) {
///         print(piece, terminator: "")
///     }
///
/// One image per conversation (MobileVLM's prompts hold one): give it with the first prompt that
/// needs it; `reset()` starts a new conversation. A model without a chat template answers each
/// prompt on its own, as a text continuation (the history is not sent).
///
/// Cancelling the task that awaits `respond(to:image:)`, or ending the iteration of
/// `streamResponse(to:image:)`, stops generation at the next token; the interrupted turn is not
/// kept in the history.
public actor ChatSession {
    /// The model the session talks to.
    public let model: LoadedModel
    /// How answers are generated; change it between turns.
    public var options: GenerationOptions
    /// The conversation so far: (role, content) pairs, `user` and `assistant` (and `system`
    /// first when one was given).
    public private(set) var history: [(role: String, content: String)] = []

    private var messages: [ChatMessage] = []
    private var imageRows: Activation?
    private var generator: GreedyGenerator?
    private var generatorSetup: GeneratorSetup?

    /// What the current generator was made for (a new one is made when a turn needs another).
    private struct GeneratorSetup: Equatable {
        var threads: Int
        var multimodal: Bool
    }

    /// A new conversation with `model`.
    /// - Parameters:
    ///   - options: how answers are generated.
    ///   - systemPrompt: instructions placed before the conversation (for templates that have a
    ///     system turn).
    public init(_ model: LoadedModel, options: GenerationOptions = GenerationOptions(), systemPrompt: String? = nil) {
        self.model = model
        self.options = options
        if let systemPrompt {
            messages.append(ChatMessage(role: "system", content: systemPrompt))
            history.append(("system", systemPrompt))
        }
    }

    /// Forgets the conversation (and its image); the system prompt, if any, stays.
    public func reset() {
        messages.removeAll { $0.role != "system" }
        history.removeAll { $0.role != "system" }
        imageRows = nil
    }

    /// Answers `prompt` (about `image`, when given).
    /// - Returns: the answer's text, without a stop string or the end-of-sequence token.
    /// - Throws: `MVLMError` for bad options, a model without a tokenizer, an image for a text-only
    ///   model or a second image in one conversation, or a prompt that does not fit in the
    ///   context; `CancellationError` when the task was cancelled.
    public func respond(to prompt: String, image: ChatImage? = nil) async throws -> String {
        try await answer(prompt, image: image, cancelled: CancellationFlag()) { _ in }
    }

    /// Answers `prompt` (about `image`, when given) as a stream of text pieces, each sent as soon
    /// as it is generated (a piece may hold several tokens when a character spans tokens, or
    /// when text was held back because it could have begun a stop string).
    /// - Returns: a stream that finishes after the answer, or throws what `respond(to:image:)`
    ///   throws. Ending the iteration early stops generation.
    public nonisolated func streamResponse(to prompt: String, image: ChatImage? = nil) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let cancelled = CancellationFlag()
            let task = Task {
                do {
                    _ = try await self.answer(prompt, image: image, cancelled: cancelled) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in
                cancelled.set()
                task.cancel()
            }
        }
    }

    /// One turn: the prompt rendered with the history, generation with streaming, the history
    /// updated when the turn completes.
    private func answer(
        _ prompt: String, image: ChatImage?, cancelled: CancellationFlag, emit: @Sendable (String) -> Void
    ) async throws -> String {
        try options.validate()
        let options = self.options
        let tokenizer = try model.requireTokenizer()
        let stops = try StopStrings(options.stopStrings)
        let threads = options.threads ?? Interpreter.processorCount
        var rows = imageRows
        if let image {
            guard rows == nil else {
                throw MVLMError(.invalidArgument, "this conversation already has an image; call reset() to start one about another image")
            }
            rows = try model.languageModel.encodeImage(try model.pixelValues(image), threads: threads).imageFeatures
        }
        let imageID = Int(LanguageModel.imageTokenID)
        var turn = messages
        var ids: [Int]
        if let chatPrompt = model.chatPrompt {
            turn.append(ChatMessage(role: "user", content: prompt, hasImage: image != nil))
            let text = try chatPrompt.render(turn)
            ids = chatPrompt.encode(text, with: tokenizer, imageID: rows != nil ? imageID : nil)
        } else {
            var text = prompt
            if image != nil && !text.contains("<image>") { text = "<image>\n" + text }
            ids = image != nil ? tokenizer.encode(text, imagePlaceholder: "<image>", imageID: imageID) : tokenizer.encode(text)
        }
        guard !ids.isEmpty else { throw MVLMError(.invalidArgument, "the prompt is empty after tokenization") }
        let expanded = try model.languageModel.expandImageMarkers(ids.map { Int32($0) })
        if model.chatPrompt == nil && image == nil { rows = nil }
        let budget = try model.languageModel.newTokenBudget(promptLength: expanded.count, requested: options.maxNewTokens)

        let setup = GeneratorSetup(threads: threads, multimodal: rows != nil)
        if generator == nil || generatorSetup != setup {
            generator = setup.multimodal
                ? try GreedyGenerator(multimodal: model.languageModel, threads: threads)
                : try GreedyGenerator(model: model.languageModel, threads: threads)
            generatorSetup = setup
        }
        var generated: [Int] = []
        var shown = ""
        var answer: String?
        let stopTokens = tokenizer.eosID.map { Set([Int32($0)]) } ?? []
        let eos = tokenizer.eosID.map(Int32.init)
        _ = try generator!.generate(
            prompt: expanded, imageRows: rows, maxNewTokens: budget, stopTokens: stopTokens, sampling: options.sampling,
            onToken: { token in
                if token != eos { generated.append(Int(token)) }
                let full = tokenizer.decode(generated, skipSpecial: true)
                guard !full.hasSuffix("\u{FFFD}") else { return }
                let visible: Substring
                if let cut = stops.truncate(full) {
                    answer = cut
                    visible = Substring(cut)
                } else {
                    visible = stops.showable(full)
                }
                if visible.count > shown.count, visible.hasPrefix(shown) {
                    emit(String(visible.dropFirst(shown.count)))
                    shown = String(visible)
                }
            },
            shouldStop: { answer != nil || cancelled.isSet || Task.isCancelled })
        if cancelled.isSet || Task.isCancelled { throw CancellationError() }
        let final = answer ?? tokenizer.decode(generated, skipSpecial: true)
        if final.count > shown.count, final.hasPrefix(shown) { emit(String(final.dropFirst(shown.count))) }

        if model.chatPrompt != nil {
            messages = turn
            messages.append(ChatMessage(role: "assistant", content: final))
            history.append(("user", prompt))
            history.append(("assistant", final))
            imageRows = rows
        }
        return final
    }
}
