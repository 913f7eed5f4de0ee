import Foundation
import MVLMCheckpoint
import MVLMConversionJob
import MVLMConvert
import MVLMCore
import MVLMModelFile
import MVLMTestSupport
import MVLMVerify
import Testing

@Suite("conversion as a library: the job, verification by default, typed decisions, passes")
struct ConversionJobTests {
    static let source = Fixtures.path("llama/mha_f32")

    static func options(_ output: String?, preset: QuantizationPreset.Name = .q4_0) -> ConversionOptions {
        var options = ConversionOptions(source: source, output: output, threads: 2)
        options.preset = preset
        options.context = 64
        return options
    }

    @Test("the job verifies the written file by default and records the summary in the manifest")
    func verifiesByDefault() throws {
        let output = try Fixtures.temporaryDirectory().appendingPathComponent("j.mvlm").path
        var stages: Set<ConversionStage> = []
        let result = try ConversionJob(options: Self.options(output)).run { stage, _, _ in stages.insert(stage) }
        let report = try #require(result.verification)
        #expect(result.verificationSkipped == nil)
        #expect(stages == [.converting, .verifying])
        #expect(report.comparison.kld.mean > 0 && report.comparison.kld.mean < 1)
        let manifest = try ModelFileReader(path: output).manifest
        let summary = try #require(manifest.verification)
        #expect(summary["kld"]?["mean"]?.doubleValue == report.comparison.kld.mean)
        #expect(summary["input"]?.stringValue?.hasPrefix("built-in") == true)
        #expect(result.files.first?.bytes == (try FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber)?.intValue)
    }

    @Test("verification off: nothing is verified, the manifest says so and the dry run predicts the size exactly")
    func verificationOff() throws {
        let output = try Fixtures.temporaryDirectory().appendingPathComponent("off.mvlm").path
        var options = Self.options(output)
        options.verification = .off
        let predicted = try ConversionJob(options: options).dryRun().predictedBytes
        let result = try ConversionJob(options: options).run()
        #expect(result.verification == nil && result.verificationSkipped == "--no-verify")
        #expect(try ModelFileReader(path: output).manifest.verification == .object(["skipped": .string("--no-verify")]))
        #expect(result.files.first?.bytes == predicted)
    }

    @Test("over budget: the job throws the report and publishes nothing")
    func overBudget() throws {
        let output = try Fixtures.temporaryDirectory().appendingPathComponent("over.mvlm").path
        var options = Self.options(output)
        options.budget = VerificationBudget(maxKLD: 0)  // q4_0 is never exact
        #expect(throws: ConversionBudgetError.self) { try ConversionJob(options: options).run() }
        #expect(!FileManager.default.fileExists(atPath: output))
        let error = try #require(throws: ConversionBudgetError.self) { try ConversionJob(options: options).run() }
        #expect(error.report.violations.count == 1 && error.report.comparison.kld.mean > 0)
    }

    @Test("convert on the command line: verified by default, --no-verify, budgets exit 3 and leave no file")
    func commandLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        let output = directory.appendingPathComponent("c.mvlm").path
        let verified = try CommandLineTool.run(["convert", Self.source, "-o", output, "--quant", "q4_0", "--threads", "2"])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("verified against"))
        #expect(try CommandLineTool.run(["inspect", output]).stdout.contains("verified      KL divergence mean"))

        let skipped = try CommandLineTool.run(["convert", Self.source, "-o", output, "--quant", "q4_0", "--no-verify"])
        #expect(skipped.status == 0 && skipped.stdout.contains("not verified: --no-verify"), "\(skipped.stderr)")
        #expect(try CommandLineTool.run(["inspect", output]).stdout.contains("verified      no: --no-verify"))

        let over = directory.appendingPathComponent("over.mvlm").path
        let failed = try CommandLineTool.run(["convert", Self.source, "-o", over, "--quant", "q4_0", "--max-kld", "0", "--threads", "2"])
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("over budget") && failed.stdout.contains("verified against"))
        #expect(!FileManager.default.fileExists(atPath: over))
        let low = try CommandLineTool.run(["convert", Self.source, "-o", over, "--quant", "q4_0", "--min-top1", "1"])
        #expect(low.status == 3 && !FileManager.default.fileExists(atPath: over))

        let within = try CommandLineTool.run([
            "convert", Self.source, "-o", over, "--quant", "q8_0", "--max-kld", "0.5", "--min-top1", "0.5", "--json",
        ])
        #expect(within.status == 0, "\(within.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(within.stdout.utf8)) as? [String: Any])
        #expect(((object["verification"] as? [String: Any])?["passed"] as? Bool) == true)

        let contradiction = try CommandLineTool.run(["convert", Self.source, "-o", over, "--no-verify", "--max-kld", "1"])
        #expect(contradiction.status == 64 && contradiction.stderr.contains("drop --no-verify"))
        let gptqAlone = try CommandLineTool.run(["convert", Self.source, "-o", over, "--gptq"])
        #expect(gptqAlone.status == 64 && gptqAlone.stderr.contains("--gptq needs --calibrate FILE"))
    }

    @Test("a source the engine does not run is converted unverified, and the manifest says why; --verify then fails")
    func unverifiableSource() throws {
        let directory = try Fixtures.temporaryDirectory()
        let output = directory.appendingPathComponent("t.mvlm").path
        let source = Fixtures.path("safetensors/small.safetensors")
        let result = try CommandLineTool.run(["convert", source, "-o", output, "--quant", "f16"])
        #expect(result.status == 0, "\(result.stderr)")
        let skipped = try #require(try ModelFileReader(path: output).manifest.verification?["skipped"]?.stringValue)
        #expect(skipped.contains("does not run"))
        let required = try CommandLineTool.run(["convert", source, "-o", output + "2", "--quant", "f16", "--verify"])
        #expect(required.status != 0 && !FileManager.default.fileExists(atPath: output + "2"))
    }

    @Test("a decision encodes its types by name, decodes back equal, and the manifest holds the same encoding")
    func decisionEncoding() throws {
        let plan = try ConversionPlan.make(
            checkpoint: try Checkpoint.open(Self.source), preset: QuantizationPreset(.q4_0), target: .x86AVX512)
        let decoded = try JSONDecoder().decode([TensorDecision].self, from: JSONEncoder().encode(plan.decisions))
        #expect(decoded == plan.decisions)
        let fused = try #require(plan.decisions.first { $0.name.hasSuffix("qkv_proj.weight") })
        #expect(fused.storage == .quantized(.q4_0) && fused.outputDType == .block(.q4_0) && fused.layout == .rows16)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(fused)) as? [String: Any])
        #expect(object["storage"] as? String == "Q4_0" && object["output_dtype"] as? String == "Q4_0")
        #expect(object["source_dtype"] as? String == "F32" && object["layout"] as? String == "rows16")

        let output = try Fixtures.temporaryDirectory().appendingPathComponent("e.mvlm").path
        var options = Self.options(output)
        options.verification = .off
        _ = try ConversionJob(options: options).run()
        let recorded = try TensorDecision.decisions(inQuantizationRecord: try ModelFileReader(path: output).manifest.quantization)
        #expect(recorded == plan.decisions)
    }

    @Test("decision records of files written before the typed plan still decode")
    func legacyRecord() throws {
        let record = MetadataValue.object([
            "decisions": .array([
                .object([
                    "name": .string("lm_head.weight"), "role": .string("output_head"), "provenancedtype": .string("BF16"),
                    "storage": .string("Q6_K"), "reason": .string("preset"),
                ]),
                .object([
                    "name": .string("pos"), "role": .string("other"), "provenancedtype": .string("I64"), "storage": .string("I64"),
                    "reason": .string("I64 data is kept as is"), "fallback": .string("x"),
                ]),
            ], elementType: "JSON"),
        ])
        let decisions = try TensorDecision.decisions(inQuantizationRecord: record)
        #expect(decisions.count == 2)
        #expect(decisions[0].sourceDType == .bfloat16 && decisions[0].outputDType == .block(.q6_K))
        #expect(decisions[0].storage == .quantized(.q6_K) && decisions[0].sourceNames == ["lm_head.weight"])
        #expect(decisions[1].storage == .keep && decisions[1].outputDType == .int64 && decisions[1].fallback == "x")
        let broken = MetadataValue.object(["decisions": .array([.object(["name": .string("x")])], elementType: "JSON")])
        #expect(throws: MVLMError.self) { try TensorDecision.decisions(inQuantizationRecord: broken) }
    }

    @Test("--print-passes prints the pipeline the plan runs, one line per pass in order")
    func printPasses() throws {
        for (arguments, fuse) in [([String](), true), (["--no-fuse"], false)] {
            let pipeline = ConversionPlan.pipeline(preset: QuantizationPreset(.q4_0), fuse: fuse, target: .x86AVX512)
            let result = try CommandLineTool.run(["convert", Self.source, "--quant", "q4_0", "--print-passes"] + arguments)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == pipeline.count)
            for (index, (line, pass)) in zip(lines, pipeline).enumerated() {
                #expect(line.hasPrefix("\(index + 1). \(pass.name): "), "\(line)")
            }
        }
        let names = ConversionPlan.pipeline(preset: QuantizationPreset(.q4_0), target: .generic).map(\.name)
        #expect(names == ["drop-unused", "storage", "fuse-qkv", "fuse-gate-up", "layout"])
    }
}
