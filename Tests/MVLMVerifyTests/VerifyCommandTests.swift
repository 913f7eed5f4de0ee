import Foundation
import MVLMCompression
import MVLMCore
import MVLMSynthetic
import MVLMTestSupport
import Testing

/// `mvlm verify --against` and `convert --verify` end to end, on the command line.
@Suite("mvlm verify --against")
struct VerifyCommandTests {
    static let source = Fixtures.path("llama/mha_f32")

    static func convert(_ source: String, _ arguments: [String]) throws -> String {
        let output = try Fixtures.temporaryDirectory().appendingPathComponent("m.mvlm").path
        let result = try CommandLineTool.run(["convert", source, "-o", output] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return output
    }

    static func report(_ arguments: [String]) throws -> (status: Int32, json: [String: Any], stderr: String) {
        let result = try CommandLineTool.run(["verify"] + arguments + ["--json", "-"])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        return (result.status, json, result.stderr)
    }

    static func prompt(_ fixture: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("llama/\(fixture)/reference.json")))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (object["prompt"] as! [Int]).map(String.init).joined(separator: ",")
    }

    @Test("a file in f32 against its own source: KL divergence 0, every block exact")
    func selfIsExact() throws {
        let file = try Self.convert(Self.source, ["--quant", "f16", "--override", "*=F32", "--no-fuse"])
        let (status, json, stderr) = try Self.report([file, "--against", Self.source, "--tokens", try Self.prompt("mha_f32")])
        #expect(status == 0, "\(stderr)")
        let kld = try #require(json["kld"] as? [String: Double])
        #expect(kld["mean"] == 0 && kld["max"] == 0 && kld["p99"] == 0)
        #expect(json["top1_agreement"] as? Double == 1)
        #expect((json["perplexity"] as? [String: Double])?["ratio"] == 1)
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.map { $0["name"] as? String } == ["layers.0", "layers.1", "norm"])
        #expect(layers.allSatisfy { $0["snr_db"] is NSNull })
        #expect((json["worst_tensors"] as? [Any])?.isEmpty == true)
        #expect(json["passed"] as? Bool == true)
        #expect((json["input"] as? [String: Int])?["scored_positions"] == 63)
    }

    @Test("fused f32 file: the same distributions to rounding")
    func fusedIsClose() throws {
        let file = try Self.convert(Self.source, ["--quant", "f16", "--override", "*=F32"])
        let (status, json, _) = try Self.report([file, "--against", Self.source, "--tokens", try Self.prompt("mha_f32")])
        #expect(status == 0)
        #expect(try #require((json["kld"] as? [String: Double])?["max"]) < 1e-9)
        #expect(json["top1_agreement"] as? Double == 1)
    }

    @Test("budgets: met gives 0, exceeded gives 3 with the report still written")
    func budgets() throws {
        let file = try Self.convert(Self.source, ["--quant", "q4_0"])
        let ids = try Self.prompt("mha_f32")
        let met = try Self.report([file, "--against", Self.source, "--tokens", ids, "--max-kld", "10", "--min-top1", "0"])
        #expect(met.status == 0 && met.json["passed"] as? Bool == true)
        let kld = try #require((met.json["kld"] as? [String: Double])?["mean"])
        #expect(kld > 1e-4)  // 4-bit random weights lose real information
        let over = try Self.report([file, "--against", Self.source, "--tokens", ids, "--max-kld", String(kld / 2)])
        #expect(over.status == 3)
        #expect(over.json["passed"] as? Bool == false)
        #expect((over.json["violations"] as? [String])?.first?.contains("--max-kld") == true)
        #expect(over.stderr.contains("over budget"))
        let top1 = try Self.report([file, "--against", Self.source, "--tokens", ids, "--min-top1", "1"])
        #expect(top1.status == 3 && (top1.json["violations"] as? [String])?.first?.contains("top-1") == true)
        // The report goes to a file atomically, and the table to the terminal.
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("r.json").path
        let written = try CommandLineTool.run(["verify", file, "--against", Self.source, "--tokens", ids, "--json", path, "--max-kld", "0"])
        #expect(written.status == 3 && written.stdout.contains("OVER BUDGET"))
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        #expect(object?["passed"] as? Bool == false)
        for key in ["kld", "top1_agreement", "perplexity", "logits_cosine", "layers", "bits_per_weight", "file_bytes", "worst_tensors"] {
            #expect(object?[key] != nil, "missing \(key)")
        }
    }

    @Test("usage and input errors are clear")
    func errors() throws {
        let file = try Self.convert(Self.source, ["--quant", "q8_0"])
        #expect(try CommandLineTool.run(["verify", file]).status == 64)
        #expect(try CommandLineTool.run(["verify", file, "--integrity", "--against", Self.source]).status == 64)
        #expect(try CommandLineTool.run(["verify", file, "--against", Self.source, "--min-top1", "90"]).status == 64)
        let outside = try CommandLineTool.run(["verify", file, "--against", Self.source, "--tokens", "1,2,99999"])
        #expect(outside.status == 1 && outside.stderr.contains("outside the vocabulary"))
        let other = try CommandLineTool.run(["verify", file, "--against", Fixtures.path("llama/gqa_tied_f32")])
        #expect(other.status == 1 && other.stderr.contains("not the same model"), "\(other.stderr)")
        // Same vocabulary and depth, other width: refused before anything runs.
        let wider = try Fixtures.temporaryDirectory()
        try SyntheticCheckpointWriter(
            preset: SyntheticPreset.llama(name: "w", summary: "", hidden: 128, layers: 2, heads: 4, kvHeads: 4, ffn: 128, vocab: 256),
            dtype: .float32
        ).write(to: wider.path)
        let width = try CommandLineTool.run(["verify", file, "--against", wider.path, "--no-weights"])
        #expect(width.status == 1 && width.stderr.contains("not the same model"), "\(width.stderr)")
        let notMVLM = try CommandLineTool.run(["verify", Self.source, "--against", Self.source])
        #expect(notMVLM.status == 1 && notMVLM.stderr.contains("not an .mvlm file"))
        let text = try CommandLineTool.run(["verify", file, "--against", Self.source, "--text", "/etc/hostname"])
        #expect(text.status == 1 && text.stderr.contains("--tokens"))
    }

    @Test("one block's scale multiplied by 100 is found at its layer and as the worst tensor")
    func corruptedBlock() throws {
        let folder = try Fixtures.temporaryDirectory()
        let preset = SyntheticPreset.llama(name: "t", summary: "", hidden: 128, layers: 6, heads: 4, kvHeads: 2, ffn: 256, vocab: 256)
        try SyntheticCheckpointWriter(preset: preset, dtype: .float32, seed: 3).write(to: folder.path)
        let file = try Self.convert(folder.path, ["--quant", "q8_0", "--no-fuse"])
        let target = "model.layers.3.mlp.down_proj.weight"
        try Self.scaleFirstBlock(of: target, in: file, by: 100)
        #expect(try CommandLineTool.run(["verify", file, "--integrity"]).status == 0)  // checksums were updated
        let (status, json, stderr) = try Self.report([file, "--against", folder.path])
        #expect(status == 0, "\(stderr)")
        let worst = try #require(json["worst_tensors"] as? [[String: Any]])
        #expect(worst.first?["name"] as? String == target)
        let layers = try #require(json["layers"] as? [[String: Any]])
        let snr = layers.map { ($0["snr_db"] as? Double) ?? 1000 }
        // The largest drop from one block to the next is at block 3.
        let drops = (1..<snr.count).map { snr[$0 - 1] - snr[$0] }
        let worstDrop = drops.indices.max { drops[$0] < drops[$1] }!
        #expect(layers[worstDrop + 1]["name"] as? String == "layers.3", "SNR by block: \(snr)")
        #expect(drops[worstDrop] > 10, "SNR by block: \(snr)")
    }

    /// Multiplies the f16 scale of the first Q8_0 block of `tensor` by `factor`, then rewrites the
    /// tensor's CRC-32 in the manifest and the header's manifest and header CRCs (Formats/mvlm.md).
    static func scaleFirstBlock(of tensor: String, in path: String, by factor: Float) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let manifestOffset = u64(40), manifestSize = u64(48)
        let manifestText = String(decoding: bytes[manifestOffset..<(manifestOffset + manifestSize)], as: UTF8.self)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(manifestText.utf8)) as? [String: Any])
        let entry = try #require((manifest["tensors"] as? [[String: Any]])?.first { $0["name"] as? String == tensor })
        #expect(entry["dtype"] as? String == "Q8_0")
        let offset = try #require(entry["offset"] as? Int), count = try #require(entry["bytes"] as? Int)
        let scale = HalfPrecision.float(fromFloat16Bits: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
        let scaled = HalfPrecision.float16Bits(from: scale * factor)
        bytes[offset] = UInt8(scaled & 0xFF)
        bytes[offset + 1] = UInt8(scaled >> 8)
        let oldCRC = try #require(entry["crc32"] as? String)
        let newCRC = String(format: "%08x", bytes[offset..<(offset + count)].withUnsafeBytes { CRC32.checksum($0) })
        let patched = manifestText.replacingOccurrences(of: "\"crc32\":\"\(oldCRC)\",\"dtype\":\"Q8_0\",\"layout\":{},\"name\":\"\(tensor)\"", with: "\"crc32\":\"\(newCRC)\",\"dtype\":\"Q8_0\",\"layout\":{},\"name\":\"\(tensor)\"")
        #expect(patched != manifestText, "the manifest entry was not found in its sorted-key form")
        let manifestBytes = Array(patched.utf8)
        #expect(manifestBytes.count == manifestSize)
        bytes.replaceSubrange(manifestOffset..<(manifestOffset + manifestSize), with: manifestBytes)
        func put32(_ value: UInt32, at: Int) { for i in 0..<4 { bytes[at + i] = UInt8((value >> (8 * UInt32(i))) & 0xFF) } }
        put32(manifestBytes.withUnsafeBytes { CRC32.checksum($0) }, at: 56)
        put32(bytes[0..<60].withUnsafeBytes { CRC32.checksum($0) }, at: 60)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test("convert --verify records the summary in the manifest, and inspect shows it")
    func convertVerify() throws {
        let output = try Fixtures.temporaryDirectory().appendingPathComponent("v.mvlm").path
        let result = try CommandLineTool.run(["convert", Self.source, "-o", output, "--quant", "q8_0", "--verify", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try CommandLineTool.run(["verify", output, "--integrity"]).status == 0)
        let inspect = try CommandLineTool.run(["inspect", output, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let summary = try #require((object["metadata"] as? [String: Any])?["verification"] as? [String: Any])
        #expect((summary["input"] as? String)?.contains("built-in") == true)
        #expect(summary["tokens"] as? Int == 256)
        let mean = try #require((summary["kld"] as? [String: Double])?["mean"])
        #expect(mean > 0 && mean < 0.05)
        #expect(summary["worst_layer"] != nil && summary["passed"] as? Bool == true)
        let table = try CommandLineTool.run(["inspect", output])
        #expect(table.stdout.contains("verified      KL divergence mean"))
        // The same check on a chosen input, and with it the file's own verify agrees.
        let ids = try Self.prompt("mha_f32")
        let chosen = try CommandLineTool.run(["convert", Self.source, "-o", output, "--quant", "q8_0", "--verify", "--verify-tokens", ids, "--json"])
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(chosen.stdout.utf8)) as? [String: Any])
        let recorded = try #require(((printed["verification"] as? [String: Any])?["kld"] as? [String: Double])?["mean"])
        let again = try Self.report([output, "--against", Self.source, "--tokens", ids])
        #expect(abs(recorded - (again.json["kld"] as! [String: Double])["mean"]!) < 1e-12)
    }
}
