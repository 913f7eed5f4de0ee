import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMGraph
import MVLMModels
import MVLMRuntime
import MVLMTestSupport
import Testing
import MVLMModelLoading

/// Broken vision configurations, checkpoints and inputs: each refused with a message that names
/// the field, tensor or file and what was expected.
@Suite struct VisionErrorTests {
    static func config(_ changes: [String: MetadataValue], tower: [String: MetadataValue] = [:]) throws -> [String: MetadataValue] {
        var config = try Checkpoint.open(Fixtures.path("vision/tiny_v2")).config
        var vision: [String: MetadataValue] = [
            "hidden_size": .int(64), "intermediate_size": .int(128), "num_attention_heads": .int(4),
            "num_hidden_layers": .int(3), "image_size": .int(336), "patch_size": .int(14),
        ]
        for (key, value) in tower { vision[key] = value }
        config["vision_config"] = .object(vision)
        for (key, value) in changes { config[key] = value }
        return config
    }

    @Test(arguments: [
        ([:], ["num_attention_heads": MetadataValue.int(5)], "'vision_config.num_attention_heads'", "do not divide hidden_size 64"),
        ([:], ["patch_size": .int(15)], "'vision_config.patch_size'", "does not divide image_size 336"),
        ([:], ["hidden_act": .string("relu")], "'vision_config.hidden_act'", "(quick_gelu, gelu)"),
        (["mm_vision_select_layer": .int(-5)], [:], "'mm_vision_select_layer'", "selects no block of a 3-block tower"),
        (["mm_vision_select_feature": .string("cls")], [:], "'mm_vision_select_feature'", "(patch, cls_patch)"),
        (["mm_vision_select_feature": .string("cls_patch")], [:], "'mm_vision_select_feature'", "patch features only"),
        (["mm_projector_type": .string("mlp2x_gelu")], [:], "'mm_projector_type'", "ldpnet, ldpnetv2"),
        (["mm_hidden_size": .int(32)], [:], "'mm_hidden_size'", "the vision tower is 64 wide"),
        ([:], ["image_size": .int(224)], "'vision_config.image_size'", "multiple of 12"),
    ] as [([String: MetadataValue], [String: MetadataValue], String, String)])
    func badConfigurationsNameTheField(changes: [String: MetadataValue], tower: [String: MetadataValue], field: String, expected: String) throws {
        let error = #expect(throws: MVLMError.self) { try VisionConfiguration(config: try Self.config(changes, tower: tower)) }
        let text = error?.description ?? ""
        #expect(text.contains(field), "\(text)")
        #expect(text.contains(expected), "\(text)")
        #expect(text.contains("config.json"), "\(text)")
    }

    @Test func viewsMustKeepTheElementCount() throws {
        var catalog = WeightCatalog(infos: try Checkpoint.open(Fixtures.path("vision/tiny_v2")).reader.tensorInfos)
        var graph = GraphBuilder()
        let name = "model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight"
        let error = #expect(throws: MVLMError.self) { try catalog.weight(name, [64, 3, 14, 14], viewAs: [64, 500], in: &graph) }
        #expect(error?.description.contains(name) == true)
        #expect(error?.description.contains("cannot read [64, 3, 14, 14] as [64, 500]") == true)
        #expect(try catalog.weight(name, [64, 3, 14, 14], viewAs: [64, 588], in: &graph) >= 0)
    }

    @Test func aTowerThatDoesNotFitIsNeverDroppedByConvert() throws {
        // The old inspect fixture: mm_hidden_size 16 against the built-in ViT-L/14 tower.
        let source = Fixtures.path("checkpoints/mobilevlm_v2")
        let out = try Fixtures.temporaryDirectory().appendingPathComponent("x.mvlm").path
        let result = try CommandLineTool.run(["convert", source, "-o", out])
        #expect(result.status == 1)
        #expect(result.stderr.contains("the vision tower cannot be built"))
        #expect(result.stderr.contains("'mm_hidden_size'"))
        #expect(!FileManager.default.fileExists(atPath: out))
        // The text model still loads and says why there is no encoder.
        let model = try LanguageModel.load(try Checkpoint.open(source))
        #expect(model.multimodal == nil)
        #expect(model.visionProblem?.contains("--vision-tower") == true)
    }

    @Test func aPreprocessorThatDoesNotFitTheTowerIsRefused() throws {
        // A CLIP folder whose preprocessing makes 224 px images for a 336 px tower.
        let clip = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(
            atPath: Fixtures.path("vision/tiny_clip/config.json"), toPath: clip.appendingPathComponent("config.json").path)
        let preprocessor: [String: Any] = ["size": ["shortest_edge": 224], "crop_size": ["height": 224, "width": 224], "do_center_crop": true]
        try JSONSerialization.data(withJSONObject: preprocessor).write(to: clip.appendingPathComponent("preprocessor_config.json"))
        let result = try CommandLineTool.run([
            "run", Fixtures.path("vision/tiny_v1"), "--vision-tower", clip.path, "--prompt", "hi",
            "--image", Fixtures.path("vision/image.png"), "--max-new-tokens", "1",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("image.png"))
        #expect(result.stderr.contains("[3, 336, 336]"))
        // A --vision-tower folder without a config.
        let empty = try Fixtures.temporaryDirectory()
        let missing = try CommandLineTool.run(["run", Fixtures.path("vision/tiny_v1"), "--vision-tower", empty.path, "--tokens", "1,2"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no config.json"))
        #expect(missing.stderr.contains(empty.lastPathComponent))
    }

    @Test func imageMarkersAndRowsMustAgree() throws {
        let model = try LanguageModel.load(try Checkpoint.open(Fixtures.path("vision/tiny_v2")))
        // Image rows for a text-only generator.
        var text = try GreedyGenerator(model: model, threads: 1)
        let rows = Activation(shape: [1, 64], values: [Float](repeating: 0, count: 64))
        let refused = #expect(throws: MVLMError.self) { try text.generate(prompt: [1, -200], imageRows: rows, maxNewTokens: 1) }
        #expect(refused?.description.contains("text-only generator") == true)
        // Two image markers on the command line.
        let twice = try CommandLineTool.run([
            "run", Fixtures.path("vision/tiny_v2"), "--tokens", "1,-200,5,-200", "--image-tensor", Fixtures.path("vision/pixels.npy"),
        ])
        #expect(twice.status == 64)
        #expect(twice.stderr.contains("exactly once (found 2)"))
        // Other negative ids are not token ids.
        let negative = try CommandLineTool.run(["run", Fixtures.path("vision/tiny_v2"), "--tokens", "1,-3"])
        #expect(negative.status == 64)
        #expect(negative.stderr.contains("'-3' is not a token id"))
    }
}
