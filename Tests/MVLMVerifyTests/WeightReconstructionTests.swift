import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModelFile
import MVLMTestSupport
import MVLMVerify
import Testing

/// Weight-reconstruction SNR on files whose manifests are broken or do not fit the source.
@Suite("weight reconstruction on broken provenance")
struct WeightReconstructionTests {
    /// A one-tensor .mvlm file: 64 f32 values named `t`, with `source` as its provenance.
    static func file(source: [MetadataValue], count: Int = 64) throws -> ModelFileReader {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("w.mvlm").path
        let writer = try ModelFileWriter(path: path)
        let values = [Float](repeating: 0.5, count: count)
        try values.withUnsafeBytes { try writer.addTensor(name: "t", dtype: .float32, shape: [count], bytes: $0, source: source) }
        try writer.finish(manifest: ModelManifest(architecture: "llama"))
        return try ModelFileReader(path: path)
    }

    static let checkpoint = try! Checkpoint.open(Fixtures.path("llama/mha_f32"))

    @Test("a source entry that is neither a name nor {name, rows} is refused, naming the tensor")
    func malformedEntry() throws {
        for bad: MetadataValue in [.int(3), .object(["name": .string("x")]), .object(["name": .string("x"), "rows": .array([.int(4), .int(2)], elementType: "JSON")])] {
            let reader = try Self.file(source: [bad])
            #expect {
                try WeightReconstruction.measure(file: reader, source: Self.checkpoint.reader)
            } throws: { error in
                "\(error)".contains("tensor 't'") && "\(error)".contains("neither a name nor {name, rows}")
            }
        }
    }

    @Test("a source tensor of another size says the source is not this file's")
    func wrongSize() throws {
        // model.norm.weight has 64 elements; the file stores 32 for it.
        let reader = try Self.file(source: [.string("model.norm.weight")], count: 32)
        #expect {
            try WeightReconstruction.measure(file: reader, source: Self.checkpoint.reader)
        } throws: { error in
            "\(error)".contains("model.norm.weight") && "\(error)".contains("not the checkpoint this file was converted from")
        }
        // Rows past the vector's end.
        let outside = try Self.file(source: [.object(["name": .string("model.norm.weight"), "rows": .array([.int(0), .int(80)], elementType: "JSON")])])
        #expect {
            try WeightReconstruction.measure(file: outside, source: Self.checkpoint.reader)
        } throws: { error in
            "\(error)".contains("lie outside its 64 elements")
        }
    }

    @Test("manifest source entries parse as whole tensors or row ranges")
    func sourceParts() {
        #expect(ModelManifest.SourcePart(.string("a")) == ModelManifest.SourcePart(.string("a")))
        #expect(ModelManifest.SourcePart(.string("a"))?.rows == nil)
        let part = ModelManifest.SourcePart(.object(["name": .string("b"), "rows": .array([.int(2), .int(5)], elementType: "JSON")]))
        #expect(part?.name == "b" && part?.rows == 2..<5)
        #expect(ModelManifest.SourcePart(.object(["name": .string("b"), "rows": .array([.int(-1), .int(5)], elementType: "JSON")])) == nil)
        #expect(ModelManifest.SourcePart(.bool(true)) == nil)
    }
}
