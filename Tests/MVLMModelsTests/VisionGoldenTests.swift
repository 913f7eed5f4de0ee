import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMRuntime
import MVLMTestSupport
import Testing
import MVLMNumPy
import MVLMModelLoading

/// Golden tests of the whole MobileVLM (V1 with LDP, V2 with LDPv2) against the oracle of
/// `Tests/Fixtures/gen_vision.py`: transformers' CLIPVisionModel (hidden_states[-2], CLS dropped)
/// and LlamaForCausalLM, and the projectors in plain torch from the upstream module definitions;
/// tiny widths but the real 336 px / patch 14 / 576 -> 144 geometry, bf16 pytorch_model.bin.
@Suite struct VisionGoldenTests {
    struct Reference: Decodable {
        var prompt: String
        var prompt_ids: [Int32]
        var spliced_length: Int
        var logits_positions: [Int]
        var greedy: [Int32]
        var min_top2_gap: Float
        var image_token_count: Int
    }

    static let clip = Fixtures.path("vision/tiny_clip")

    static func load(_ version: String) throws -> (LanguageModel, Reference) {
        let folder = Fixtures.path("vision/tiny_\(version)")
        // V1's mm_vision_tower names no known tower: --vision-tower is needed. V2's is the
        // relative folder ../tiny_clip, found on its own.
        let model = try LanguageModel.load(try Checkpoint.open(folder), visionTower: version == "v1" ? clip : nil)
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/reference/reference.json")))
        return (model, reference)
    }

    static func pixels() throws -> [Float] {
        let (shape, values) = try NumPyFile.readFloat32(path: Fixtures.path("vision/pixels.npy"))
        #expect(shape == [3, 336, 336])
        return values
    }

    /// max |a - b| relative to max |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) throws -> Float {
        let worst = try #require(maxAbsoluteDifference(a, b))
        return worst / max(b.reduce(0) { max($0, abs($1)) }, 1e-30)
    }

    @Test(arguments: ["v1", "v2"])
    func featuresLogitsAndGreedyTokensMatchTheOracle(version: String) throws {
        let (model, reference) = try Self.load(version)
        let parts = try model.requireVision()
        #expect(parts.configuration.projector == (version == "v1" ? .ldp : .ldpv2))
        #expect(parts.configuration.imageTokenCount == 144)
        #expect(reference.image_token_count == 144)

        let encoding = try model.encodeImage(try Self.pixels(), threads: 2)
        let folder = Fixtures.path("vision/tiny_\(version)/reference")
        let (visionShape, vision) = try NumPyFile.readFloat32(path: folder + "/vision_features.npy")
        #expect(encoding.visionFeatures.shape == visionShape)
        #expect(visionShape == [576, 64])
        let visionError = try Self.relativeError(encoding.visionFeatures.values, vision)
        #expect(visionError <= 1e-4, "vision features: relative error \(visionError)")
        let (imageShape, image) = try NumPyFile.readFloat32(path: folder + "/image_features.npy")
        #expect(encoding.imageFeatures.shape == imageShape)
        #expect(imageShape == [144, 64])
        let imageError = try Self.relativeError(encoding.imageFeatures.values, image)
        #expect(imageError <= 1e-4, "projector output: relative error \(imageError)")

        // The spliced prompt: -200 becomes 144 positions; logits at the oracle's positions.
        let prompt = try model.expandImageMarkers(reference.prompt_ids)
        #expect(prompt.count == reference.spliced_length)
        var generator = try GreedyGenerator(multimodal: model, threads: 2)
        let result = try generator.generate(
            prompt: prompt, imageRows: encoding.imageFeatures, maxNewTokens: 16, keepPromptLogits: true)
        let logits = try #require(result.promptLogits)
        let (logitShape, expected) = try NumPyFile.readFloat32(path: folder + "/logits.npy")
        let vocabulary = logits.lastDimension
        #expect(logitShape == [reference.logits_positions.count, vocabulary])
        var selected: [Float] = []
        for position in reference.logits_positions { selected += logits.row(position) }
        let logitError = try Self.relativeError(selected, expected)
        #expect(logitError <= 1e-4, "multimodal logits: relative error \(logitError)")
        #expect(result.tokens == reference.greedy)
    }

    @Test func theUnusedLastBlockAndPostNormAreReported() throws {
        let (model, _) = try Self.load("v2")
        let unused = Dictionary(uniqueKeysWithValues: model.unusedTensors.map { ($0.name, $0.reason) })
        let prefix = "model.vision_tower.vision_tower.vision_model."
        #expect(unused[prefix + "post_layernorm.weight"]?.contains("post-LayerNorm is not run") == true)
        #expect(unused[prefix + "encoder.layers.2.mlp.fc1.weight"]?.contains("mm_vision_select_layer -2") == true)
        #expect(unused.keys.filter { $0.contains("encoder.layers.2.") }.count == 16)
        #expect(model.weights[prefix + "encoder.layers.1.mlp.fc1.weight"] != nil)
        #expect(unused.count == 18)
        // The conv filters are read as matrices, still views of the mapped checkpoint.
        #expect(model.weights[prefix + "embeddings.patch_embedding.weight"]?.shape == [64, 588])
        #expect(model.weights.values.allSatisfy { $0.storage.isBorrowed })
    }

    @Test func anUnknownTowerNeedsVisionTower() throws {
        let folder = Fixtures.path("vision/tiny_v1")
        let checkpoint = try Checkpoint.open(folder)
        // Text-only still runs; an image is refused with the way out.
        let textOnly = try LanguageModel.load(checkpoint)
        #expect(textOnly.multimodal == nil)
        #expect(textOnly.unusedTensors.first { $0.name.hasPrefix("model.mm_projector.") }?.reason.contains("--vision-tower") == true)
        let error = #expect(throws: MVLMError.self) { try textOnly.encodeImage(try Self.pixels()) }
        #expect(error?.description.contains("--vision-tower") == true)
        // Conversion requires it.
        let required = #expect(throws: MVLMError.self) {
            try VisionTowerResolver.resolve(
                config: checkpoint.config, checkpointDirectory: folder, visionTower: nil, required: true)
        }
        #expect(required?.description.contains("pass --vision-tower DIR") == true)
        #expect(required?.description.contains("mobilevlm-tests/tiny-clip-vit-336") == true)
    }

    @Test func towerConfigurationSources() throws {
        // The built-in table for the released checkpoints' tower name.
        var config = try Checkpoint.open(Fixtures.path("vision/tiny_v1")).config
        config["mm_vision_tower"] = .string("openai/clip-vit-large-patch14-336")
        let builtIn = try VisionTowerResolver.resolve(config: config, checkpointDirectory: nil, visionTower: nil, required: true)
        #expect(builtIn.source?.contains("built-in") == true)
        config = builtIn.config
        config["hidden_size"] = .int(2048)
        config["mm_hidden_size"] = .int(1024)
        let large = try VisionConfiguration(config: config)
        #expect(large.hiddenSize == 1024 && large.heads == 16 && large.layerCount == 24 && large.usedLayerCount == 23)
        #expect(large.imageSize == 336 && large.patchSize == 14 && large.patchCount == 576 && large.imageTokenCount == 144)
        #expect(large.activation == "quick_gelu" && large.layerNormEpsilon == 1e-5)
        // A full CLIPModel folder (vision_config nested) works as --vision-tower; its
        // preprocessor_config.json travels with it.
        let directory = try Fixtures.temporaryDirectory()
        let clipConfig: [String: Any] = [
            "model_type": "clip", "projection_dim": 32,
            "text_config": ["hidden_size": 16],
            "vision_config": ["hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 3, "image_size": 336, "patch_size": 14],
        ]
        try JSONSerialization.data(withJSONObject: clipConfig).write(to: directory.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(
            atPath: Self.clip + "/preprocessor_config.json", toPath: directory.appendingPathComponent("preprocessor_config.json").path)
        let model = try LanguageModel.load(try Checkpoint.open(Fixtures.path("vision/tiny_v1")), visionTower: directory.path)
        #expect(try model.requireVision().configuration.layerCount == 3)
        // Not a CLIP folder: a clear error.
        let bad = #expect(throws: MVLMError.self) {
            try LanguageModel.load(try Checkpoint.open(Fixtures.path("vision/tiny_v1")), visionTower: Fixtures.path("vision/tiny_v2"))
        }
        #expect(bad?.description.contains("not a CLIP config") == true)
    }

    @Test func runTakesAnImageTensorAndMatchesTheOracle() throws {
        let (_, reference) = try Self.load("v2")
        let ids = reference.prompt_ids.map(String.init).joined(separator: ",")
        let result = try CommandLineTool.run([
            "run", Fixtures.path("vision/tiny_v2"), "--tokens", ids, "--image-tensor", Fixtures.path("vision/pixels.npy"),
            "--max-new-tokens", "16", "--threads", "2", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["generated"] as? [Int])?.map(Int32.init) == reference.greedy)
        #expect((object["prompt"] as? [Int])?.count == reference.spliced_length)
        #expect(object["image_encode_seconds"] as? Double ?? 0 > 0)
        // -200 with no image, and an image tensor of the wrong shape, are refused clearly.
        let noImage = try CommandLineTool.run(["run", Fixtures.path("vision/tiny_v2"), "--tokens", "1,-200,5"])
        #expect(noImage.status == 64)
        #expect(noImage.stderr.contains("no --image or --image-tensor"))
        let wrong = try Fixtures.temporaryDirectory().appendingPathComponent("wrong.npy").path
        try NumPyFile.writeFloat32([Float](repeating: 0, count: 3 * 224 * 224), shape: [3, 224, 224], to: wrong)
        let mismatched = try CommandLineTool.run(["run", Fixtures.path("vision/tiny_v2"), "--tokens", "1,-200,5", "--image-tensor", wrong])
        #expect(mismatched.status == 1)
        #expect(mismatched.stderr.contains("[3, 336, 336]"))
    }

    @Test func convertWritesOneFileThatRunsAlone() throws {
        let directory = try Fixtures.temporaryDirectory()
        let file = directory.appendingPathComponent("v1.mvlm").path
        // Without the tower's configuration conversion stops with the way out.
        let refused = try CommandLineTool.run(["convert", Fixtures.path("vision/tiny_v1"), "-o", file])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("--vision-tower"))
        #expect(!FileManager.default.fileExists(atPath: file))
        let plan = try CommandLineTool.run([
            "convert", Fixtures.path("vision/tiny_v1"), "--vision-tower", Self.clip, "--quant", "f16", "--dry-run", "--json",
        ])
        #expect(plan.status == 0, "\(plan.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let dropped = try #require(object["dropped"] as? [[String: Any]])
        #expect(dropped.count == 18)
        #expect(dropped.contains { ($0["name"] as? String)?.hasSuffix("post_layernorm.weight") == true })
        let converted = try CommandLineTool.run([
            "convert", Fixtures.path("vision/tiny_v1"), "--vision-tower", Self.clip, "--quant", "f16", "-o", file,
        ])
        #expect(converted.status == 0, "\(converted.stderr)")

        // The file carries the tower's configuration and preprocessing: no --vision-tower needed.
        let checkpoint = try Checkpoint.open(file)
        guard case .object(let tower) = checkpoint.config["vision_config"] else {
            Issue.record("no vision_config in the manifest")
            return
        }
        #expect(tower["num_hidden_layers"]?.intValue == 3)
        guard case .object(let preprocessor) = checkpoint.config["preprocessor_config"] else {
            Issue.record("no preprocessor_config in the manifest")
            return
        }
        #expect(preprocessor["crop_size"] != nil && preprocessor["image_mean"] != nil)
        let manifest = try #require(checkpoint.reader as? ModelFileReader).manifest
        let stored = try #require(manifest.imagePreprocessing)
        #expect(stored["size"]?.intValue == 336 && stored["pad_to_square"] == .bool(true))
        #expect(stored["pad_color"]?.arrayValue?.compactMap(\.intValue) == [122, 116, 104])
        let model = try LanguageModel.load(checkpoint)
        // Tower q/k/v were fused like the decoder's; bf16 -> f16 is exact for these weights.
        #expect(model.weights.keys.contains { $0.hasSuffix("vision_model.encoder.layers.0.self_attn.qkv_proj.weight") })
        let encoding = try model.encodeImage(try Self.pixels(), threads: 2)
        let (_, image) = try NumPyFile.readFloat32(path: Fixtures.path("vision/tiny_v1/reference/image_features.npy"))
        #expect(try Self.relativeError(encoding.imageFeatures.values, image) <= 1e-4)
        let (_, reference) = try Self.load("v1")
        let run = try CommandLineTool.run([
            "run", file, "--tokens", reference.prompt_ids.map(String.init).joined(separator: ","),
            "--image-tensor", Fixtures.path("vision/pixels.npy"), "--max-new-tokens", "16", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((result["generated"] as? [Int])?.map(Int32.init) == reference.greedy)
    }

    @Test func anImageFileAndAChatPromptGiveTheOraclesTokens() throws {
        let (_, reference) = try Self.load("v2")
        // The PNG goes through our decoder and CLIP preprocessing (expand2square with the mean
        // colour, PIL bicubic to 336, normalization), the prompt through MobileVLM's v1 format and
        // tokenizer_image_token: the ids and the greedy tokens are the oracle's.
        let result = try CommandLineTool.run([
            "run", Fixtures.path("vision/tiny_v2"), "--chat", "--prompt", "What is in the image?",
            "--image", Fixtures.path("vision/image.png"), "--max-new-tokens", "16", "--threads", "2", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        var expanded: [Int] = []
        for id in reference.prompt_ids { expanded += id == -200 ? [Int](repeating: -200, count: 144) : [Int(id)] }
        #expect(object["prompt_tokens"] as? [Int] == expanded)
        #expect((object["generated"] as? [Int])?.map(Int32.init) == reference.greedy)
        #expect(object["prompt"] as? String == reference.prompt)
        // A broken image file is one clear error.
        let broken = try Fixtures.temporaryDirectory().appendingPathComponent("broken.png").path
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]).write(to: URL(fileURLWithPath: broken))
        let refused = try CommandLineTool.run(["run", Fixtures.path("vision/tiny_v2"), "--prompt", "hi", "--image", broken])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("broken.png"))
    }

    @Test func verifyComparesTheVisionHalf() throws {
        let directory = try Fixtures.temporaryDirectory()
        let file = directory.appendingPathComponent("v2q.mvlm").path
        let converted = try CommandLineTool.run([
            "convert", Fixtures.path("vision/tiny_v2"), "-o", file, "--quant", "q8_0", "--override", "*encoder.layers.*=q8_0",
        ])
        #expect(converted.status == 0, "\(converted.stderr)")
        let result = try CommandLineTool.run([
            "verify", file, "--against", Fixtures.path("vision/tiny_v2"), "--image", Fixtures.path("vision/image.png"),
            "--no-weights", "--json", "-", "--threads", "2",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let image = try #require(object["image"] as? [String: Any])
        let vision = try #require(image["vision_features"] as? [String: Any])
        let projected = try #require(image["image_features"] as? [String: Any])
        // Q8_0 tower blocks: close to the float features but not identical.
        let cosine = try #require(vision["cosine"] as? Double)
        #expect(cosine > 0.999 && cosine < 1)
        #expect(try #require(projected["cosine"] as? Double) > 0.999)
        #expect(try #require(vision["snr_db"] as? Double) > 20)
        #expect(image["image_tokens"] as? Int == 144)
        #expect(image["scored_positions"] as? Int == 256)
        #expect(try #require((image["kld"] as? [String: Any])?["mean"] as? Double) >= 0)

        // convert's built-in verification takes the image too and records it in the manifest.
        let verified = directory.appendingPathComponent("v2v.mvlm").path
        let run = try CommandLineTool.run([
            "convert", Fixtures.path("vision/tiny_v2"), "-o", verified, "--quant", "q4_0", "--verify",
            "--image-tensor", Fixtures.path("vision/pixels.npy"), "--threads", "2",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        // The preset's Q8_0 tower (8-bit products): close to the float features, within the
        // default's accuracy target.
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("image: vision features cosine ") })
        let reported = try #require(Double(String(line.split(separator: " ")[4]).trimmingCharacters(in: CharacterSet(charactersIn: ","))))
        #expect(reported >= 0.999 && reported < 1, "\(line)")
        // The documented overrides keep the tower and the projector F16: exact again.
        let f16Tower = directory.appendingPathComponent("v2f.mvlm").path
        let exact = try CommandLineTool.run([
            "convert", Fixtures.path("vision/tiny_v2"), "-o", f16Tower, "--quant", "q4_0", "--verify",
            "--override", "*vision_tower*proj.weight=f16", "--override", "*vision_tower*fc?.weight=f16",
            "--override", "*mm_projector*mlp*.weight=f16", "--image-tensor", Fixtures.path("vision/pixels.npy"), "--threads", "2",
        ])
        #expect(exact.status == 0, "\(exact.stderr)")
        #expect(exact.stdout.contains("image: vision features cosine 1.000000"), "\(exact.stdout)")
        let inspect = try CommandLineTool.run(["inspect", verified])
        #expect(inspect.stdout.contains("image: vision features cosine"))
        #expect(try CommandLineTool.run(["convert", Fixtures.path("vision/tiny_v2"), "-o", verified, "--image", "x.png", "--no-verify"]).status == 64)
    }

    @Test func benchReportsImageEncodeTime() throws {
        let result = try CommandLineTool.run([
            "bench", Fixtures.path("vision/tiny_v2"), "--threads", "2", "--prompt-tokens", "8", "--gen-tokens", "2",
            "--repetitions", "1", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let seconds = try #require(object["image_encode_seconds"] as? Double)
        #expect(seconds > 0 && seconds.isFinite)
        // A text-only model has no such field.
        let text = try CommandLineTool.run(["bench", Fixtures.path("llama/mha_f32"), "--threads", "1", "--prompt-tokens", "4", "--gen-tokens", "2", "--repetitions", "1", "--json"])
        #expect(!text.stdout.contains("image_encode_seconds"))
    }
}
