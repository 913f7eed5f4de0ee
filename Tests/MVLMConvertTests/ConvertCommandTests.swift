import Foundation
import MVLMCheckpoint
import MVLMModels
import MVLMTestSupport
import Testing
import MVLMNumPy

@Suite("mvlm convert and verify --integrity on the command line")
struct ConvertCommandTests {
    @Test("--dry-run predicts the size the conversion then writes; verify --integrity passes, then finds damage")
    func dryRunThenConvert() throws {
        let source = Fixtures.path("checkpoints/llama_sharded_bin")
        let plan = try CommandLineTool.run(["convert", source, "--quant", "q4_0", "--dry-run", "--json", "--no-verify"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let planObject = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let predicted = try #require(planObject["predicted_file_bytes"] as? Int)
        #expect((planObject["decisions"] as? [Any])?.isEmpty == false)

        let output = try Fixtures.temporaryDirectory().appendingPathComponent("m.mvlm").path
        let result = try CommandLineTool.run(["convert", source, "-o", output, "--quant", "q4_0", "--json", "--no-verify"])
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

@Suite("mvlm dump")
struct DumpCommandTests {
    @Test("dequantized and stored forms of a converted tensor; unknown names are errors")
    func dump() throws {
        let directory = try Fixtures.temporaryDirectory()
        let model = directory.appendingPathComponent("m.mvlm").path
        let source = Fixtures.path("checkpoints/llama_sharded_safetensors")
        #expect(try CommandLineTool.run(["convert", source, "-o", model, "--quant", "q8_0"]).status == 0)
        let floats = directory.appendingPathComponent("f.npy").path
        let raw = directory.appendingPathComponent("r.npy").path
        let name = "model.layers.0.mlp.down_proj.weight"  // [32, 64]
        #expect(try CommandLineTool.run(["dump", model, "--tensor", name, "--dequantize", "-o", floats]).status == 0)
        #expect(try CommandLineTool.run(["dump", model, "--tensor", name, "-o", raw]).status == 0)
        let (shape, values) = try NumPyFile.readFloat32(path: floats)
        #expect(shape == [32, 64])
        let original = try Checkpoint.open(source).reader.tensor(named: name).floatValues()
        let amax = original.map(abs).max() ?? 0
        #expect((maxAbsoluteDifference(values, original) ?? .infinity) <= amax / 127 * 0.51 + 1e-6)
        let header = try Data(contentsOf: URL(fileURLWithPath: raw)).prefix(128)
        #expect(String(decoding: header, as: UTF8.self).contains("'descr': '|u1'"))
        #expect(String(decoding: header, as: UTF8.self).contains("'shape': (32, 68)"))  // 2 Q8_0 blocks of 34 bytes per row
        let missing = try CommandLineTool.run(["dump", model, "--tensor", "nope", "-o", raw])
        #expect(missing.status == 1 && missing.stderr.contains("no tensor named 'nope'"))
    }
}
