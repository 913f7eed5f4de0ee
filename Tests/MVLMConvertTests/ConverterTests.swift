import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMModelFile
import MVLMQuant
import MVLMTestSupport
import Testing

/// Converts checkpoints written by transformers (Tests/Fixtures/llama) and checks the .mvlm
/// against the source: the plan's predicted size, the stored bytes against the quantizer's own
/// output on the source rows, and reconstruction error within each scheme's documented bound.
@Suite("mvlm convert")
struct ConverterTests {
    static let source = Fixtures.path("checkpoints/llama_sharded_safetensors")

    /// Unfused by default, so tensors keep their source names; fusion has its own tests.
    func convert(_ preset: QuantizationPreset.Name, overrides: [String] = [], fuse: Bool = false) throws -> (String, ConversionPlan, Int) {
        let checkpoint = try Checkpoint.open(Self.source)
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(preset), overrides: overrides.map { try TensorOverride(parsing: $0) },
            fuse: fuse)
        let converter = ModelConverter(checkpoint: checkpoint, plan: plan)
        let base = ModelManifest(architecture: checkpoint.architecture.kind.rawValue, config: checkpoint.config)
        let predicted = try converter.predictedFileSize(manifest: base)
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("\(preset.rawValue).mvlm").path
        try converter.convert(to: path, manifest: base)
        return (path, plan, predicted)
    }

    @Test("every preset, fused or not: predicted size is the size, tensors carry their decisions, integrity holds",
          arguments: QuantizationPreset.Name.allCases, [false, true])
    func presets(preset: QuantizationPreset.Name, fuse: Bool) throws {
        let (path, plan, predicted) = try convert(preset, fuse: fuse)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue
        #expect(size == predicted)
        let reader = try ModelFileReader(path: path)
        #expect(reader.verifyIntegrity().isEmpty)
        #expect(reader.tensorInfos.map(\.name) == plan.decisions.map(\.name))
        for (info, decision) in zip(reader.tensorInfos, plan.decisions) {
            #expect(info.dtype == decision.outputDType)
            #expect(info.shape == decision.shape)
        }
        #expect(reader.manifest.quantization?["preset"] == .string(preset.rawValue))
    }

    @Test("stored blocks equal the quantizer's output on the source rows; values within bounds")
    func storedBytes() throws {
        let (path, plan, _) = try convert(.q8_0)
        let reader = try ModelFileReader(path: path)
        let source = try Checkpoint.open(Self.source)
        for decision in plan.decisions where decision.outputDType == .block(.q8_0) {
            let original = try source.reader.tensor(named: decision.name).floatValues()
            let columns = decision.shape.last!
            let expected = try QuantizationScheme.q8_0.quantize(matrix: original, rows: original.count / columns, columns: columns)
            let stored = try reader.tensor(named: decision.name).withUnsafeBytes { Array($0) }
            #expect(stored == expected, "\(decision.name)")
            let restored = try QuantizationScheme.q8_0.dequantize(matrix: stored, rows: original.count / columns, columns: columns)
            let amax = original.map(abs).max() ?? 0
            // Q8_0: error at most half a step, step = max|block| / 127 (<= amax / 127), plus f16 scale rounding.
            #expect((maxAbsoluteDifference(original, restored) ?? .infinity) <= amax / 127 * 0.5 * 1.01 + 1e-6, "\(decision.name)")
        }
    }

    @Test("f16 output equals the bf16 source widened and rounded to f16")
    func floatCast() throws {
        let (path, plan, _) = try convert(.f16)
        let reader = try ModelFileReader(path: path)
        let source = try Checkpoint.open(Self.source)
        for decision in plan.decisions where decision.outputDType == .float16 {
            let original = try source.reader.tensor(named: decision.name).floatValues()
            let stored = try reader.tensor(named: decision.name).floatValues()
            #expect(stored == original.map { Float(Float16($0)) }, "\(decision.name)")
        }
    }

    @Test("overrides apply, and an override that cannot hold a shape is an error naming the tensor")
    func overrides() throws {
        let (path, _, _) = try convert(.q4_0, overrides: ["lm_head.weight=Q8_0", "model.layers.0.*=F16"])
        let reader = try ModelFileReader(path: path)
        #expect(reader.tensorInfos.first { $0.name == "lm_head.weight" }?.dtype == .block(.q8_0))
        #expect(reader.tensorInfos.first { $0.name == "model.layers.0.self_attn.q_proj.weight" }?.dtype == .float16)
        // The fixture's hidden size is 32: Q4_K needs rows of 256.
        #expect { try self.convert(.q4_0, overrides: ["model.layers.1.self_attn.q_proj.weight=Q4_K"]) } throws: {
            "\($0)".contains("q_proj") && "\($0)".contains("256")
        }
    }

    @Test("two conversions of the same input are byte-identical")
    func reproducible() throws {
        let (a, _, _) = try convert(.q4_k_m)
        let (b, _, _) = try convert(.q4_k_m)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }
}
