import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMSafetensors
import MVLMSynthetic
import MVLMTestSupport
import Testing

@Suite("mvlm synth and the safetensors writer")
struct SynthTests {
    @Test("the tiny preset writes a LLaMA folder that reads back with the right shapes and statistics")
    func tinyPreset() throws {
        let folder = try Fixtures.temporaryDirectory().appendingPathComponent("tiny").path
        let result = try CommandLineTool.run(["synth", "--preset", "tiny-llama", "-o", folder, "--dtype", "bf16"])
        #expect(result.status == 0, "\(result.stderr)")
        let checkpoint = try Checkpoint.open(folder)
        #expect(checkpoint.architecture.kind == .llama)
        let preset = try #require(SyntheticPreset.named("tiny-llama"))
        #expect(checkpoint.reader.tensorInfos.map(\.name) == preset.tensors.map(\.name))
        #expect(checkpoint.reader.tensorInfos.allSatisfy { $0.dtype == .bfloat16 })
        let embedding = try checkpoint.reader.tensor(named: "model.embed_tokens.weight").floatValues()
        let mean = embedding.reduce(0, +) / Float(embedding.count)
        let std = (embedding.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(embedding.count)).squareRoot()
        #expect(abs(mean) < 1e-3 && abs(std - 0.02) < 1e-3, "mean \(mean) std \(std)")
        #expect(try checkpoint.reader.tensor(named: "model.norm.weight").floatValues().allSatisfy { $0 == 1 })
        #expect(checkpoint.config["num_key_value_heads"]?.intValue == 4)
    }

    @Test("the same seed gives the same bytes; another seed does not")
    func reproducible() throws {
        let root = try Fixtures.temporaryDirectory()
        let preset = try #require(SyntheticPreset.named("tiny-llama"))
        for (name, seed) in [("a", UInt64(1)), ("b", 1), ("c", 2)] {
            try SyntheticCheckpointWriter(preset: preset, seed: seed).write(to: root.appendingPathComponent(name).path)
        }
        let a = try Data(contentsOf: root.appendingPathComponent("a/model.safetensors"))
        let b = try Data(contentsOf: root.appendingPathComponent("b/model.safetensors"))
        let c = try Data(contentsOf: root.appendingPathComponent("c/model.safetensors"))
        #expect(a == b)
        #expect(a != c)
    }

    @Test("the writer refuses wrong byte counts and leaves no file behind")
    func writerErrors() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("x.safetensors").path
        let writer = try SafetensorsWriter(path: path, tensors: [.init(name: "t", dtype: .float32, shape: [2])])
        #expect(throws: MVLMError.self) { try [UInt8](repeating: 0, count: 12).withUnsafeBytes { try writer.write($0) } }
        #expect(throws: MVLMError.self) { try writer.finish() }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: MVLMError.self) {
            try SafetensorsWriter(path: path, tensors: [.init(name: "q", dtype: .block(.q4_0), shape: [32])])
        }
    }

    @Test("written files round-trip through the reader, including 0-d and empty tensors and metadata")
    func roundTrip() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("r.safetensors").path
        let writer = try SafetensorsWriter(
            path: path,
            tensors: [.init(name: "s", dtype: .float32, shape: []), .init(name: "e", dtype: .int8, shape: [0, 3]),
                      .init(name: "w \"q\"", dtype: .int16, shape: [3])],
            metadata: ["k": "v\n"])
        try [Float(2.5)].withUnsafeBytes { try writer.write($0) }
        try [Int16(-1), 2, 3].withUnsafeBytes { try writer.write($0) }
        try writer.finish()
        let reader = try SafetensorsReader(path: path)
        #expect(reader.metadata["k"] == .string("v\n"))
        #expect(try reader.tensor(named: "s").floatValues() == [2.5])
        #expect(try reader.tensor(named: "e").elementCount == 0)
        #expect(try reader.tensor(named: "w \"q\"").floatValues() == [-1, 2, 3])
        #expect(reader.dataOffset % 8 == 0)
    }
}

@Suite("mvlm synth --format bin")
struct SynthBinTests {
    @Test("bin and safetensors outputs of one seed hold the same tensors")
    func binMatchesSafetensors() throws {
        let root = try Fixtures.temporaryDirectory()
        let preset = try #require(SyntheticPreset.named("tiny-llama"))
        try SyntheticCheckpointWriter(preset: preset, format: .safetensors, seed: 5).write(to: root.appendingPathComponent("s").path)
        try SyntheticCheckpointWriter(preset: preset, format: .bin, seed: 5).write(to: root.appendingPathComponent("b").path)
        let a = try Checkpoint.open(root.appendingPathComponent("s").path)
        let b = try Checkpoint.open(root.appendingPathComponent("b").path)
        #expect(b.format == .pytorch)
        #expect(a.reader.tensorInfos.map(\.name) == b.reader.tensorInfos.map(\.name))
        for info in a.reader.tensorInfos {
            let same = try a.reader.tensor(named: info.name).withUnsafeBytes { x in
                try b.reader.tensor(named: info.name).withUnsafeBytes { y in x.elementsEqual(y) }
            }
            #expect(same, "\(info.name)")
        }
    }
}
