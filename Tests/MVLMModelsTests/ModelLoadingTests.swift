import Foundation
import MVLMCore
import MVLMModels
import MVLMSafetensors
import MVLMTestSupport
import Testing

@Suite struct ModelLoadingTests {
    let folder = Fixtures.path("llama/mha_f32")

    func reader() throws -> SafetensorsReader { try SafetensorsReader(path: folder + "/model.safetensors") }
    func config() throws -> [String: MetadataValue] { try ConfigJSON.load(folder + "/config.json") }

    func tensor(_ shape: [Int]) throws -> Tensor {
        let count = shape.reduce(1, *)
        return try [Float](repeating: 0.5, count: count).withUnsafeBytes {
            try Tensor(storage: TensorStorage(copying: $0), dtype: .float32, shape: shape)
        }
    }

    @Test func mobileVLMReportsVisionTensorsAsUnused() throws {
        var config = try config()
        config["model_type"] = .string("mobilevlm")
        config["architectures"] = .array([.string("MobileLlamaForCausalLM")], elementType: "json")
        var edited = EditedReader(base: try reader())
        edited.extra["model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight"] = try tensor([8, 3, 2, 2])
        edited.extra["model.mm_projector.0.weight"] = try tensor([64, 8])
        edited.extra["model.layers.0.self_attn.rotary_emb.inv_freq"] = try tensor([8])
        let model = try LanguageModel.load(config: config, reader: edited)
        #expect(model.architecture == "mobilevlm")
        let unused = Dictionary(uniqueKeysWithValues: model.unusedTensors.map { ($0.name, $0.reason) })
        #expect(unused.count == 3)
        #expect(unused["model.mm_projector.0.weight"]?.contains("projector") == true)
        #expect(unused["model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight"]?.contains("vision tower") == true)
        #expect(unused["model.layers.0.self_attn.rotary_emb.inv_freq"]?.contains("inv_freq") == true)
    }

    @Test func untiedLlamaListsStrayTensors() throws {
        var edited = EditedReader(base: try reader())
        edited.extra["model.layers.1.self_attn.q_proj.bias"] = try tensor([64])
        let model = try LanguageModel.load(config: try config(), reader: edited)
        #expect(model.unusedTensors.map(\.name) == ["model.layers.1.self_attn.q_proj.bias"])
        #expect(model.unusedTensors[0].reason.contains("attention_bias"))
    }

    @Test func missingTensorIsNamedWithItsShape() throws {
        var edited = EditedReader(base: try reader())
        edited.hidden = ["model.layers.1.mlp.up_proj.weight"]
        do {
            _ = try LanguageModel.load(config: try config(), reader: edited)
            Issue.record("expected an error")
        } catch let error as MVLMError {
            #expect(error.code == .notFound)
            #expect(error.description.contains("model.layers.1.mlp.up_proj.weight"))
            #expect(error.description.contains("[128, 64]"))
        }
        edited.hidden = ["lm_head.weight"]
        #expect(throws: MVLMError.self) { try LanguageModel.load(config: try config(), reader: edited) }
    }

    @Test func misshapedTensorIsNamedWithBothShapes() throws {
        var config = try config()
        config["intermediate_size"] = .int(96)
        do {
            _ = try LanguageModel.load(config: config, reader: try reader())
            Issue.record("expected an error")
        } catch let error as MVLMError {
            #expect(error.description.contains("model.layers.0.mlp.gate_proj.weight"))
            #expect(error.description.contains("[128, 64]"))
            #expect(error.description.contains("[96, 64]"))
        }
    }

    @Test func unknownArchitectureAndRopeTypeAreErrors() throws {
        var config = try config()
        config["model_type"] = .string("gpt2")
        config["architectures"] = .array([.string("GPT2LMHeadModel")], elementType: "json")
        #expect(throws: MVLMError.self) { try LanguageModel.load(config: config, reader: try reader()) }
        var dynamic = try self.config()
        dynamic["rope_parameters"] = .object(["rope_type": .string("dynamic"), "factor": .float(2), "rope_theta": .float(10000)])
        do {
            _ = try LanguageModel.load(config: dynamic, reader: try reader())
            Issue.record("expected an error")
        } catch let error as MVLMError {
            #expect(error.code == .unsupported)
            #expect(error.description.contains("dynamic"))
        }
    }

    @Test func legacyRopeScalingKeysParse() throws {
        let legacy = try ConfigJSON.parse("""
            {"vocab_size": 32000, "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 24,
             "num_attention_heads": 16, "rms_norm_eps": 1e-6, "rope_theta": 500000.0,
             "rope_scaling": {"type": "linear", "factor": 4.0}, "max_position_embeddings": 2048,
             "tie_word_embeddings": false, "model_type": "mobilevlm"}
            """)
        let configuration = try LlamaConfiguration(config: legacy)
        #expect(configuration.keyValueHeads == 16)
        #expect(configuration.headDimension == 128)
        #expect(configuration.rope.theta == 500_000)
        #expect(configuration.rope.scaling == .linear(factor: 4))
        let plain = try ConfigJSON.parse("""
            {"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
             "num_attention_heads": 2, "rope_scaling": null}
            """)
        #expect(try LlamaConfiguration(config: plain).rope == .init(headDimension: 4, theta: 10000, scaling: .none))
        let broken = try ConfigJSON.parse("""
            {"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
             "num_attention_heads": 3}
            """)
        #expect(throws: MVLMError.self) { try LlamaConfiguration(config: broken) }
    }
}
