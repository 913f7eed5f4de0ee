import Foundation
import MobileVLM
import Testing

/// The library as an app uses it: this target imports MobileVLM and nothing else of the package.
/// References: the `mvlm` tool's own answers (`run --chat --json`) for the same file, prompt and
/// image, and plain string operations for stop strings.
@Suite(.serialized) struct AppTests {
    static let question = "What is in the image?"

    /// `mvlm run`'s answer (its JSON `text`) for the file, the question and the fixture image.
    static func toolAnswer(_ path: String, maxNewTokens: Int, extra: [String] = []) throws -> String {
        let result = ModelFixture.run(
            ["run", path, "--chat", "--prompt", question, "--image", ModelFixture.image, "--max-new-tokens", "\(maxNewTokens)",
             "--threads", "2", "--json"] + extra)
        try #require(result.status == 0, "mvlm run failed: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(object["text"] as? String)
    }

    @Test func aLoadedFileDescribesItsModelAndItsVerification() throws {
        let model = try LoadedModel(contentsOf: try ModelFixture.path())
        #expect(model.architecture == "mobilevlm")
        #expect(model.supportsImages)
        #expect(model.hasChatTemplate)
        #expect(model.contextLength == 512)
        #expect(model.vocabularySize == 3000)
        let verification = try #require(model.verification)
        #expect(verification.tokens > 0 && verification.scoredPositions > 0)
        #expect(verification.top1Agreement > 0.9 && verification.top1Agreement <= 1)
        #expect(verification.kldMean >= 0 && verification.kldMean <= verification.kldMax)
        #expect(verification.passed)
        #expect(model.recommendedSampling == nil)  // tiny_v2 ships no generation_config.json
        let ids = try model.tokenize("hello world")
        #expect(!ids.isEmpty)
        #expect(try model.detokenize(ids).contains("hello"))
    }

    @Test func askingAboutAnImageAnswersAsTheToolDoes() async throws {
        let path = try ModelFixture.path()
        let session = ChatSession(try LoadedModel(contentsOf: path), options: GenerationOptions(maxNewTokens: 12, threads: 2))
        let answer = try await session.respond(to: Self.question, image: try ChatImage(contentsOfFile: ModelFixture.image))
        #expect(answer == (try Self.toolAnswer(path, maxNewTokens: 12)))
        let history = await session.history
        #expect(history.map(\.role) == ["user", "assistant"])
        #expect(history.last?.content == answer)
    }

    @Test func decodedPixelsAnswerAsTheSameImageInAFile() async throws {
        // The app's own decoder gives RGB bytes; the same bytes written as a PNG go through the
        // library's decoder (and the tool's). All three answers must agree.
        let (width, height) = (120, 90)
        var rgb: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                rgb += [UInt8(x * 255 / (width - 1)), UInt8(y * 255 / (height - 1)), UInt8((x * y) % 256)]
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mobilevlm-tests-\(getpid())-pixels.png").path
        try Data(PlainPNG.data(width: width, height: height, rgb: rgb)).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let path = try ModelFixture.path()
        let model = try LoadedModel(contentsOf: path)
        let options = GenerationOptions(maxNewTokens: 8, threads: 2)
        let fromPixels = try await ChatSession(model, options: options)
            .respond(to: Self.question, image: try ChatImage(width: width, height: height, rgb: rgb))
        let fromFile = try await ChatSession(model, options: options).respond(to: Self.question, image: try ChatImage(contentsOfFile: file))
        #expect(fromPixels == fromFile)
        let result = ModelFixture.run(
            ["run", path, "--chat", "--prompt", Self.question, "--image", file, "--max-new-tokens", "8", "--threads", "2", "--json"])
        try #require(result.status == 0, "mvlm run failed: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(fromPixels == object["text"] as? String)
        #expect(throws: (any Error).self) { try ChatImage(width: 2, height: 2, rgb: [0, 0, 0]) }
        #expect(throws: (any Error).self) { try ChatImage(width: 0, height: 2, rgb: []) }
    }

    @Test func streamingGivesTheAnswerPieceByPiece() async throws {
        let model = try LoadedModel(contentsOf: try ModelFixture.path())
        let options = GenerationOptions(maxNewTokens: 12, threads: 2)
        let image = try ChatImage(contentsOfFile: ModelFixture.image)
        let whole = try await ChatSession(model, options: options).respond(to: Self.question, image: image)
        var pieces: [String] = []
        for try await piece in ChatSession(model, options: options).streamResponse(to: Self.question, image: image) {
            pieces.append(piece)
        }
        #expect(pieces.joined() == whole)
        #expect(pieces.count > 1 || whole.count <= 1)
    }

    @Test func aCancelledTurnStopsAndIsNotKept() async throws {
        let model = try LoadedModel(contentsOf: try ModelFixture.path())
        let session = ChatSession(model, options: GenerationOptions(maxNewTokens: 400, threads: 2))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await session.respond(to: Self.question, image: try ChatImage(contentsOfFile: ModelFixture.image))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(await session.history.isEmpty)
        // The session still answers afterwards, and a stream the app stops listening to ends.
        var received = 0
        for try await _ in session.streamResponse(to: Self.question, image: try ChatImage(contentsOfFile: ModelFixture.image)) {
            received += 1
            break
        }
        #expect(received == 1)
        let history = await session.history
        #expect(history.isEmpty || history.count == 2)
    }

    @Test func samplingWithASeedRepeatsAndMatchesTheTool() async throws {
        let path = try ModelFixture.path()
        let model = try LoadedModel(contentsOf: path)
        let sampling = SamplingOptions(temperature: 1.5, topK: 40, topP: 0.95, minP: 0.01, repetitionPenalty: 1.1, seed: 42)
        let options = GenerationOptions(maxNewTokens: 12, sampling: sampling, threads: 2)
        let image = try ChatImage(contentsOfFile: ModelFixture.image)
        let first = try await ChatSession(model, options: options).respond(to: Self.question, image: image)
        let second = try await ChatSession(model, options: options).respond(to: Self.question, image: image)
        #expect(first == second)
        let tool = try Self.toolAnswer(
            path, maxNewTokens: 12,
            extra: ["--temperature", "1.5", "--top-k", "40", "--top-p", "0.95", "--min-p", "0.01", "--repetition-penalty", "1.1", "--seed", "42"])
        #expect(first == tool)
    }

    @Test func stopStringsEndTheAnswerBeforeThem() async throws {
        let model = try LoadedModel(contentsOf: try ModelFixture.path())
        let image = try ChatImage(contentsOfFile: ModelFixture.image)
        let full = try await ChatSession(model, options: GenerationOptions(maxNewTokens: 16, threads: 2))
            .respond(to: Self.question, image: image)
        try #require(full.count >= 4, "the fixture's answer is too short to cut: '\(full)'")
        let stop = String(full.dropFirst(full.count / 2).prefix(2))
        let expected = String(full[..<full.range(of: stop)!.lowerBound])
        let options = GenerationOptions(maxNewTokens: 16, stopStrings: [stop], threads: 2)
        let cut = try await ChatSession(model, options: options).respond(to: Self.question, image: image)
        #expect(cut == expected)
        var streamed = ""
        for try await piece in ChatSession(model, options: options).streamResponse(to: Self.question, image: image) { streamed += piece }
        #expect(streamed == expected)
    }

    @Test func badRequestsThrowClearErrors() async throws {
        let model = try LoadedModel(contentsOf: try ModelFixture.path())
        let image = try ChatImage(contentsOfFile: ModelFixture.image)
        let session = ChatSession(model, options: GenerationOptions(maxNewTokens: 2, threads: 2))
        _ = try await session.respond(to: Self.question, image: image)
        await #expect(throws: (any Error).self) { try await session.respond(to: "And this one?", image: image) }
        await session.reset()
        #expect(await session.history.isEmpty)
        let bad = ChatSession(model, options: GenerationOptions(sampling: SamplingOptions(temperature: -1)))
        await #expect(throws: (any Error).self) { try await bad.respond(to: "hi") }
        #expect(throws: (any Error).self) { try LoadedModel(contentsOf: ModelFixture.fixtures + "/vision/image.png") }
    }
}
