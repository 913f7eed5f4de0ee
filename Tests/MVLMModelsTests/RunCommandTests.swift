import Foundation
import MVLMCore
import MVLMModels
import MVLMTestSupport
import Testing

@testable import mvlm
import MVLMNumPy

@Suite struct RunCommandTests {
    @Test func writesPromptLogitsAsNumPy() throws {
        let folder = Fixtures.path("llama/gqa_f16")
        let reference = try JSONDecoder().decode(
            LlamaGoldenTests.Reference.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json")))
        let output = try Fixtures.temporaryDirectory("run").appendingPathComponent("logits.npy").path
        let ids = reference.prompt.map(String.init).joined(separator: ",")
        var command = try RunCommand.parseAsRoot([
            folder, "--tokens", ids, "--max-new-tokens", "4", "--logits-out", output, "--threads", "2", "--json",
        ])
        try command.run()
        let (shape, values) = try NumPyFile.readFloat32(path: output)
        let (expectedShape, expected) = try NumPyFile.readFloat32(path: folder + "/logits.npy")
        #expect(shape == expectedShape)
        let maximum = expected.reduce(0) { max($0, abs($1)) }
        #expect(try #require(maxAbsoluteDifference(values, expected)) <= 1e-4 * maximum)
    }

    @Test func validatesArguments() throws {
        let folder = Fixtures.path("llama/mha_f32")
        #expect(throws: (any Error).self) { try RunCommand.parseAsRoot([folder]) }
        #expect(throws: (any Error).self) { try RunCommand.parseAsRoot([folder, "--tokens", "1,2", "--prompt", "hi"]) }
        #expect(throws: (any Error).self) { try RunCommand.parseAsRoot([folder, "--tokens", "1", "--threads", "0"]) }
        #expect(throws: (any Error).self) { try RunCommand.parseTokens("1,x,3") }
        #expect(try RunCommand.parseTokens("1, 2,3") == [1, 2, 3])
        var prompt = try RunCommand.parseAsRoot([folder, "--prompt", "hello"])
        do {
            try prompt.run()
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("no tokenizer found") && "\(error)".contains("--tokenizer"))
        }
        var outOfVocabulary = try RunCommand.parseAsRoot([folder, "--tokens", "1,999", "--max-new-tokens", "1"])
        #expect(throws: MVLMError.self) { try outOfVocabulary.run() }
    }
}
