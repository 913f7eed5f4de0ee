import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMGGUF
import MVLMGGUFExport
import MVLMTestSupport
import Testing

/// The vision-projector GGUF (mmproj) of MobileVLM checkpoints, checked against what llama.cpp's
/// mtmd reads (`tools/mtmd/clip.cpp` `load_hparams` / `load_tensors`, names from `clip-impl.h`):
/// keys it requires with the GGUF types its getters assert, and the tensors it loads as required.
@Suite("MobileVLM vision-projector GGUF for llama.cpp's mtmd")
struct GGUFProjectorExportTests {
    /// clip.cpp's required `u32` keys (`get_u32` asserts UINT32), for the vision modality.
    static let requiredUInt32 = [
        "clip.vision.embedding_length", "clip.vision.attention.head_count", "clip.vision.feed_forward_length",
        "clip.vision.block_count", "clip.vision.projection_dim", "clip.vision.image_size", "clip.vision.patch_size",
    ]

    static func projectorTensors(ldp version: Int) -> Set<String> {
        if version == 2 {
            return ["mm.model.mlp.0.weight", "mm.model.mlp.0.bias", "mm.model.mlp.2.weight", "mm.model.mlp.2.bias",
                    "mm.model.peg.0.weight", "mm.model.peg.0.bias"]
        }
        var names: Set<String> = ["mm.model.mlp.1.weight", "mm.model.mlp.1.bias", "mm.model.mlp.3.weight", "mm.model.mlp.3.bias"]
        for block in [1, 2] {
            for part in ["0.0.weight", "0.1.weight", "0.1.bias", "1.fc1.weight", "1.fc1.bias", "1.fc2.weight", "1.fc2.bias",
                         "2.0.weight", "2.1.weight", "2.1.bias"] {
                names.insert("mm.model.mb_block.\(block).block.\(part)")
            }
        }
        return names
    }

    static func export(version: Int) throws -> (language: GGUFReader, projector: GGUFReader) {
        let checkpoint = try Checkpoint.open(Fixtures.path("checkpoints/mobilevlm_v\(version)"))
        let plan = try ConversionPlan.make(checkpoint: checkpoint, preset: QuantizationPreset(.f16), fuse: false)
        let model = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tokenizer/sp_bpe.model"))))
        let export = try GGUFExport.make(
            converter: ModelConverter(checkpoint: checkpoint, plan: plan), tokenizer: .files(["tokenizer.model": model], origin: "sp_bpe"))
        let directory = try Fixtures.temporaryDirectory()
        let files = try export.write(
            to: directory.appendingPathComponent("m.gguf").path, projectorPath: directory.appendingPathComponent("m.mmproj.gguf").path)
        #expect(files.count == 2)
        return (try GGUFReader(path: files[0]), try GGUFReader(path: files[1]))
    }

    @Test("keys, types, layer selection and tensors as clip.cpp loads them", arguments: [1, 2])
    func projector(version: Int) throws {
        let (language, projector) = try Self.export(version: version)
        #expect(language.string(forKey: "general.architecture") == "llama")
        #expect(!language.tensorInfos.contains { $0.name.hasPrefix("v.") || $0.name.hasPrefix("mm.") })
        #expect(language.tensorInfos.count == 2 + 2 * 9 + 1)

        #expect(projector.string(forKey: "general.architecture") == "clip")
        #expect(projector.string(forKey: "clip.projector_type") == (version == 1 ? "ldp" : "ldpv2"))
        #expect(projector.bool(forKey: "clip.has_vision_encoder") == true && projector.bool(forKey: "clip.has_llava_projector") == true)
        for key in Self.requiredUInt32 { #expect(projector.metadataType(forKey: key) == .uint32, "\(key)") }
        #expect(projector.metadataType(forKey: "clip.vision.attention.layer_norm_epsilon") == .float32)
        for key in ["clip.vision.image_mean", "clip.vision.image_std"] {
            guard case .array(let values, "FLOAT32") = projector.metadata[key] ?? .null else {
                Issue.record("\(key) is not a FLOAT32 array")
                continue
            }
            #expect(values.count == 3)
        }
        // Fixture geometry: 16 wide, FFN 64, 14-pixel patches on a 2×2 grid, 2 blocks of which
        // mm_vision_select_layer -2 uses the first.
        #expect(projector.integer(forKey: "clip.vision.embedding_length") == 16)
        #expect(projector.integer(forKey: "clip.vision.feed_forward_length") == 64)
        #expect(projector.integer(forKey: "clip.vision.image_size") == 28 && projector.integer(forKey: "clip.vision.patch_size") == 14)
        #expect(projector.integer(forKey: "clip.vision.block_count") == 1)
        #expect(projector.metadata["clip.vision.feature_layer"] == .array([.int(1)], elementType: "INT32"))

        let names = Set(projector.tensorInfos.map(\.name))
        #expect(Self.projectorTensors(ldp: version).isSubset(of: names))
        let tower = Set([
            "v.class_embd", "v.patch_embd.weight", "v.position_embd.weight", "v.pre_ln.weight", "v.pre_ln.bias",
        ]).union(["attn_q", "attn_k", "attn_v", "attn_out", "ln1", "ln2", "ffn_up", "ffn_down"].flatMap { ["v.blk.0.\($0).weight", "v.blk.0.\($0).bias"] })
        #expect(names == tower.union(Self.projectorTensors(ldp: version)))

        func info(_ name: String) throws -> GGUFTensorInfo { try #require(projector.ggufTensorInfos.first { $0.name == name }) }
        // ggml's ne order; fc1 (4× wide) is ffn_up, so clip.cpp sees no swapped FFN.
        #expect(try info("v.blk.0.ffn_up.weight").dimensions == [16, 64])
        #expect(try info("v.patch_embd.weight").dimensions == [14, 14, 3, 16])
        #expect(try info("v.class_embd").dtype == .float32 && info("v.patch_embd.weight").dtype == .float16)
        if version == 2 {
            #expect(try info("mm.model.peg.0.weight").dimensions == [3, 3, 32])  // [C, 1, 3, 3] squeezed
            #expect(try info("mm.model.mlp.0.weight").dimensions == [16, 32])
        } else {
            #expect(try info("mm.model.mb_block.1.block.0.0.weight").dimensions == [3, 3, 32])
            #expect(try info("mm.model.mb_block.1.block.1.fc1.weight").dimensions == [32, 8])  // [8, C, 1, 1] squeezed
            #expect(try info("mm.model.mb_block.2.block.2.1.bias").dtype == .float32)
        }
    }
}

@Suite("mvlm convert --format gguf on the command line")
struct GGUFConvertCommandTests {
    @Test("the format follows the extension; a MobileVLM also writes OUT.mmproj.gguf; --verify is refused")
    func commandLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        let output = directory.appendingPathComponent("s.gguf").path
        let plain = try CommandLineTool.run(["convert", Fixtures.path("gguf_export/llama_bpe"), "-o", output, "--quant", "q8_0"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(try GGUFReader(path: output).string(forKey: "tokenizer.ggml.pre") == "smollm")

        let vlm = directory.appendingPathComponent("v.gguf").path
        // A MobileVLM V2 folder whose tower configuration resolves (mm_vision_tower ../tiny_clip).
        let both = try CommandLineTool.run(["convert", Fixtures.path("vision/tiny_v2"), "-o", vlm, "--quant", "f16"])
        #expect(both.status == 0, "\(both.stderr)")
        let projector = try GGUFReader(path: directory.appendingPathComponent("v.mmproj.gguf").path)
        #expect(projector.string(forKey: "clip.projector_type") == "ldpv2")
        // The resolved tower (tiny_clip: 3 blocks, 4 heads, 336 px) and hidden state -2.
        #expect(projector.integer(forKey: "clip.vision.block_count") == 2 && projector.integer(forKey: "clip.vision.attention.head_count") == 4)
        #expect(projector.metadata["clip.vision.feature_layer"] == .array([.int(2)], elementType: "INT32"))

        let verify = try CommandLineTool.run(["convert", Fixtures.path("gguf_export/llama_bpe"), "-o", output, "--verify"])
        #expect(verify.status == 64 && verify.stderr.contains("--verify checks .mvlm files"))
        let mmproj = try CommandLineTool.run(["convert", Fixtures.path("gguf_export/llama_bpe"), "-o", "x.mvlm", "--mmproj", "p.gguf"])
        #expect(mmproj.status == 64 && mmproj.stderr.contains("--mmproj goes with --format gguf"))
    }
}
