import Foundation
import MVLMTestSupport
import Testing

/// `mvlm inspect` as a user runs it.
@Suite("mvlm inspect")
struct InspectCommandTests {
    @Test("--json prints one object with format, architecture and the tensor table")
    func json() throws {
        let result = try CommandLineTool.run(["inspect", Fixtures.path("checkpoints/llama_sharded_safetensors"), "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["format"] as? String == "safetensors")
        #expect(object["architecture"] as? String == "llama")
        let tensors = try #require(object["tensors"] as? [[String: Any]])
        let expected = try loadExpectedJSON("checkpoints/expected.json")
        let want = try #require((expected["llama_sharded_safetensors"] as? [String: Any])?["tensors"] as? [String: [String: Any]])
        #expect(tensors.count == want.count)
        for row in tensors {
            let name = try #require(row["name"] as? String)
            #expect(row["dtype"] as? String == want[name]?["dtype"] as? String)
            #expect(jsonInts(row["shape"]) == jsonInts(want[name]?["shape"]))
            #expect((row["bytes"] as? Int ?? 0) > 0)
        }
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["tensors"] as? Int == want.count)
    }

    @Test("the table names every tensor and the totals")
    func table() throws {
        let result = try CommandLineTool.run(["inspect", Fixtures.path("safetensors/all_dtypes.safetensors")])
        #expect(result.status == 0)
        for name in ["bf16", "f8_e4m3", "scalar", "empty_2d", "BF16", "F8_E4M3", "totals"] {
            #expect(result.stdout.contains(name), "\(name)")
        }
    }

    @Test("--graph prints the engine's checked graph and lists unused tensors by name")
    func graph() throws {
        let result = try CommandLineTool.run(["inspect", Fixtures.path("checkpoints/mobilevlm_v2"), "--graph"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("= attention(") && result.stdout.contains("= rope(") && result.stdout.contains("output \"logits\""))
        #expect(result.stdout.contains("# unused: model.mm_projector.peg.peg.0.weight"))
        let unknown = try CommandLineTool.run(["inspect", Fixtures.path("checkpoints/clip_vision"), "--graph"])
        #expect(unknown.status == 1 && unknown.stderr.split(separator: "\n").count == 1)
    }

    @Test("a hostile file exits non-zero with one line naming the file and the problem")
    func hostile() throws {
        let path = Fixtures.path("safetensors/hostile_overlap.safetensors")
        let result = try CommandLineTool.run(["inspect", path])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(path) && result.stderr.contains("overlaps"))
    }
}
