import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMTestSupport
import Testing

/// Seeded byte mutations of valid safetensors and .mvlm files: every variant either opens and
/// reads consistently or throws `MVLMError`; nothing traps.
@Suite("mutated files never crash the readers")
struct MutationTests {
    static func mutate(_ source: String, seed: UInt64, rounds: Int, headerBias: Int) throws -> Int {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        var random = SeededRandom(seed: seed)
        let directory = try Fixtures.temporaryDirectory("mvlm-mutate")
        defer { try? FileManager.default.removeItem(at: directory) }
        var refused = 0
        for round in 0..<rounds {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let limit = round % 2 == 0 ? min(headerBias, bytes.count) : bytes.count
                bytes[Int.random(in: 0..<limit, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if round % 7 == 0 { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &random)) }
            let path = directory.appendingPathComponent("m\(round)" + (source as NSString).pathExtension).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let checkpoint = try Checkpoint.open(path)
                for info in checkpoint.reader.tensorInfos {
                    let tensor = try checkpoint.reader.tensor(named: info.name)
                    #expect(tensor.byteCount == info.byteCount)
                    _ = tensor.withUnsafeBytes { $0.reduce(0, &+) }
                }
            } catch is MVLMError {
                refused += 1
            }
        }
        return refused
    }

    @Test("safetensors")
    func safetensors() throws {
        let refused = try Self.mutate(Fixtures.path("safetensors/all_dtypes.safetensors"), seed: 1, rounds: 1500, headerBias: 1200)
        #expect(refused > 0)
    }

    @Test(".mvlm")
    func modelFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("m.mvlm").path
        let result = try CommandLineTool.run(["convert", Fixtures.path("checkpoints/llama_sharded_safetensors"), "-o", path, "--quant", "q8_0"])
        #expect(result.status == 0)
        let refused = try Self.mutate(path, seed: 2, rounds: 1000, headerBias: 64)
        #expect(refused > 0)
    }
}
