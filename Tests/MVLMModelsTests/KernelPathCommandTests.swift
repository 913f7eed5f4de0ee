import Foundation
import MVLMTestSupport
import Testing

/// "No slow path by surprise": `mvlm bench`, `mvlm run --json` and `mvlm convert --dry-run` say
/// which kernel every linear weight runs through and list those that are not on a fast C kernel.
@Suite("kernel paths in bench, run --json and convert --dry-run")
struct KernelPathCommandTests {
    static let source = Fixtures.path("llama/mha_f32")

    /// The `kernel_paths` object of a JSON output.
    static func paths(_ stdout: String) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        return try #require(object["kernel_paths"] as? [String: Any])
    }

    static func slow(_ paths: [String: Any]) throws -> [[String: String]] {
        try #require(paths["slow"] as? [[String: String]])
    }

    /// Whether the test process runs the C kernels at a vector level (not MVLM_KERNELS=swift/portable).
    static var vectorKernels: Bool { ProcessInfo.processInfo.environment["MVLM_KERNELS"] == nil }

    @Test("bench and run --json: INT8_PC matrices run the integer kernels; INT8_B32 prefill is listed as widened")
    func benchAndRun() throws {
        let directory = try Fixtures.temporaryDirectory()
        let pc = directory.appendingPathComponent("pc.mvlm").path
        let b32 = directory.appendingPathComponent("b32.mvlm").path
        #expect(try CommandLineTool.run(["convert", Self.source, "-o", pc, "--quant", "q8_0", "--override", "*_proj.weight=INT8_PC"]).status == 0)
        #expect(
            try CommandLineTool.run([
                "convert", Self.source, "-o", b32, "--quant", "q8_0", "--override", "*_proj.weight=INT8_B32", "--target", "generic",
            ]).status == 0)

        let bench = try CommandLineTool.run(["bench", pc, "--threads", "1", "--prompt-tokens", "8", "--gen-tokens", "2", "--repetitions", "1", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let benchPaths = try Self.paths(bench.stdout)
        let decode = try #require(benchPaths["decode"] as? [String: Int])
        let integer = decode.filter { $0.key.hasPrefix("integer mvlm_matvec_q8 INT8_PC") }.values.reduce(0, +)
        #expect(integer == 2 * 4, "\(decode)")  // 2 layers x (qkv, o, gate_up, down)
        if Self.vectorKernels {
            #expect(try Self.slow(benchPaths).filter { $0["weight"]!.contains("_proj") }.isEmpty, "\(benchPaths)")
        }
        let text = try CommandLineTool.run(["bench", b32, "--threads", "1", "--prompt-tokens", "8", "--gen-tokens", "2", "--repetitions", "1"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("SLOW PATH prefill: widened") && text.stdout.contains("INT8_B32"), "\(text.stdout)")

        let run = try CommandLineTool.run(["run", b32, "--tokens", "1,2,3,4,5", "--max-new-tokens", "2", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let runSlow = try Self.slow(try Self.paths(run.stdout))
        let widened = runSlow.filter { $0["phase"] == "prefill" && $0["route"] == "widened" && $0["kernel"]!.hasSuffix("INT8_B32") }
        #expect(widened.count == 2 * 4, "\(runSlow)")
        #expect(Set(widened.map { $0["weight"]! }).contains("model.layers.0.mlp.down_proj.weight"))
    }

    @Test("convert --dry-run names the weights that would take a slow path on the chosen --target")
    func dryRun() throws {
        let plan = try CommandLineTool.run([
            "convert", Self.source, "--dry-run", "--json", "--quant", "q8_0", "--override", "*_proj.weight=INT8_B32", "--target", "generic",
        ])
        #expect(plan.status == 0, "\(plan.stderr)")
        let paths = try Self.paths(plan.stdout)
        let slow = try Self.slow(paths)
        // generic = level 0: every weight is on the portable kernels, INT8_B32 prefill on the widened path.
        #expect(slow.contains { $0["phase"] == "prefill" && $0["route"] == "widened" && $0["weight"] == "model.layers.1.self_attn.o_proj.weight" })
        #expect(slow.allSatisfy { $0["level"] == "portable" })

        let neon = try CommandLineTool.run([
            "convert", Self.source, "--dry-run", "--quant", "q8_0", "--override", "*_proj.weight=AFFINE4_G64", "--target", "arm64-neon",
        ])
        #expect(neon.status == 0, "\(neon.stderr)")
        #expect(neon.stdout.contains("kernels on arm64-neon decode: ") && neon.stdout.contains("integer mvlm_matvec_q8 AFFINE4_G64 (neon)"), "\(neon.stdout)")
        // Only the Q8_0 head is listed (its prefill keeps f32 activations: widened), no AFFINE4 matrix.
        let slowLines = neon.stdout.split(separator: "\n").filter { $0.contains("SLOW PATH") }
        #expect(slowLines.count == 1 && slowLines[0].contains("Q8_0") && slowLines[0].contains("lm_head.weight"), "\(slowLines)")

        let slowText = try CommandLineTool.run([
            "convert", Self.source, "--dry-run", "--quant", "q8_0", "--override", "*_proj.weight=INT8_B32", "--target", "generic",
        ])
        #expect(slowText.stdout.contains("SLOW PATH prefill: widened Swift tiles + mvlm_gemm_float INT8_B32 (portable)"), "\(slowText.stdout)")
    }
}
