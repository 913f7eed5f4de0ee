import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMTestSupport
import Testing

/// Folders written by transformers' save_pretrained and torch.save (Tests/Fixtures/gen_checkpoints.py).
@Suite("checkpoint folders")
struct CheckpointTests {
    nonisolated(unsafe) static let expected = try! loadExpectedJSON("checkpoints/expected.json")
    static let folders = expected.keys.filter { $0 != "hostile" }.sorted()

    @Test("format, architecture and every tensor's dtype and shape", arguments: folders)
    func folder(name: String) throws {
        let want = try #require(Self.expected[name] as? [String: Any])
        let checkpoint = try Checkpoint.open(Fixtures.path("checkpoints/\(name)"))
        #expect(checkpoint.format.rawValue == want["format"] as? String)
        #expect(checkpoint.architecture.kind.rawValue == want["architecture"] as? String)
        let tensors = try #require(want["tensors"] as? [String: [String: Any]])
        let infos = checkpoint.reader.tensorInfos
        #expect(Set(infos.map(\.name)) == Set(tensors.keys))
        for info in infos {
            #expect(info.dtype.name == tensors[info.name]?["dtype"] as? String, "\(info.name)")
            #expect(info.shape == jsonInts(tensors[info.name]?["shape"]), "\(info.name)")
        }
        if let shards = want["shards"] as? Int {
            #expect(checkpoint.files.count == shards + 1, "index plus shards")
            #expect(Set(infos.map(\.file)).count == shards)
        }
        #expect(!checkpoint.config.isEmpty, "config.json is read")
    }

    @Test("sharded safetensors and sharded .bin of the same model hold the same values")
    func shardedFormatsAgree() throws {
        let safetensors = try Checkpoint.open(Fixtures.path("checkpoints/llama_sharded_safetensors"))
        let pytorch = try Checkpoint.open(Fixtures.path("checkpoints/llama_sharded_bin"))
        #expect(safetensors.reader.tensorInfos.count == pytorch.reader.tensorInfos.count)
        for info in safetensors.reader.tensorInfos {
            let a = try safetensors.reader.tensor(named: info.name).floatValues()
            let b = try pytorch.reader.tensor(named: info.name).floatValues()
            #expect(a == b, "\(info.name)")
        }
    }

    @Test("a folder with both .safetensors and .bin prefers safetensors and says so")
    func preference() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("checkpoints/llama_bin_and_safetensors"))
        #expect(checkpoint.format == .safetensors)
        #expect(checkpoint.notes.contains { $0.contains("pytorch_model.bin") })
    }

    @Test("a single weights file inside a folder picks up config.json")
    func fileWithConfig() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("checkpoints/mobilevlm_v2/pytorch_model.bin"))
        #expect(checkpoint.configPath != nil)
        #expect(checkpoint.architecture.kind == .mobileVLMV2)
    }

    @Test("broken indexes are refused with an error naming the index")
    func hostileIndexes() throws {
        let hostile = try #require(Self.expected["hostile"] as? [String: String])
        #expect(hostile.count >= 5)
        for (name, keyword) in hostile.sorted(by: { $0.key < $1.key }) {
            do {
                _ = try Checkpoint.open(Fixtures.path("checkpoints/\(name)"))
                Issue.record("\(name) was accepted")
            } catch let error as MVLMError {
                #expect(error.description.contains(keyword), "\(name): \(error)")
                #expect(error.description.contains(name), "\(name): \(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("format detection reads bytes, not names")
    func detection() throws {
        let renamed = try Fixtures.temporaryDirectory().appendingPathComponent("weights.dat")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("safetensors/small.safetensors"), toPath: renamed.path)
        #expect(try CheckpointFormat.detect(path: renamed.path) == .safetensors)
        let text = renamed.deletingLastPathComponent().appendingPathComponent("notes.txt")
        try Data("hello world, not a model".utf8).write(to: text)
        #expect(throws: MVLMError.self) { try CheckpointFormat.detect(path: text.path) }
        #expect(throws: MVLMError.self) { try Checkpoint.open("/nonexistent/model") }
        #expect(throws: MVLMError.self) { try Checkpoint.open(renamed.deletingLastPathComponent().path + "/empty-dir-does-not-exist") }
    }

    @Test("a folder without weights, or with several candidates, is a clear error")
    func folderChoice() throws {
        let empty = try Fixtures.temporaryDirectory()
        #expect { try Checkpoint.open(empty.path) } throws: { ($0 as? MVLMError)?.message.contains("no weights found") == true }
        for name in ["a.safetensors", "b.safetensors"] {
            try FileManager.default.copyItem(
                atPath: Fixtures.path("safetensors/small.safetensors"), toPath: empty.appendingPathComponent(name).path)
        }
        #expect { try Checkpoint.open(empty.path) } throws: { ($0 as? MVLMError)?.message.contains("several") == true }
    }
}
