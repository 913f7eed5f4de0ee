import Foundation
import MVLMTestSupport
import Testing

@Suite("mvlm convert and verify --integrity on the command line")
struct ConvertCommandTests {
    @Test("--dry-run predicts the size the conversion then writes; verify --integrity passes, then finds damage")
    func dryRunThenConvert() throws {
        let source = Fixtures.path("checkpoints/llama_sharded_bin")
        let plan = try CommandLineTool.run(["convert", source, "--quant", "q4_0", "--dry-run", "--json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let planObject = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let predicted = try #require(planObject["predicted_file_bytes"] as? Int)
        #expect((planObject["decisions"] as? [Any])?.isEmpty == false)

        let output = try Fixtures.temporaryDirectory().appendingPathComponent("m.mvlm").path
        let result = try CommandLineTool.run(["convert", source, "-o", output, "--quant", "q4_0", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber).intValue
        #expect(size == predicted)

        #expect(try CommandLineTool.run(["verify", output, "--integrity"]).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        bytes[200] ^= 0xFF  // inside the first tensor's data
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        let damaged = try CommandLineTool.run(["verify", output, "--integrity"])
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("fail their checksum") && damaged.stderr.split(separator: "\n").count == 1)
    }

    @Test("bad presets and overrides are usage errors that say what is accepted")
    func usage() throws {
        let source = Fixtures.path("checkpoints/llama_sharded_bin")
        let preset = try CommandLineTool.run(["convert", source, "--quant", "q3_xs", "--dry-run"])
        #expect(preset.status == 64 && preset.stderr.contains("q4_k_m"))
        let override = try CommandLineTool.run(["convert", source, "--dry-run", "--override", "x=Q9"])
        #expect(override.status == 1 && override.stderr.contains("unknown type 'Q9'"))
        let missing = try CommandLineTool.run(["convert", source])
        #expect(missing.status == 64 && missing.stderr.contains("-o"))
    }
}
