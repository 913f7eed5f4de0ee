import MVLMConvert
import MVLMCore
import MVLMQuant
import Testing

@Suite("mixed-precision policy")
struct PolicyTests {
    @Test("roles from Hugging Face and GGUF names")
    func roles() {
        let cases: [(String, Int, TensorRole, Int?)] = [
            ("model.embed_tokens.weight", 2, .tokenEmbedding, nil), ("token_embd.weight", 2, .tokenEmbedding, nil),
            ("lm_head.weight", 2, .outputHead, nil), ("output.weight", 2, .outputHead, nil),
            ("model.layers.7.self_attn.q_proj.weight", 2, .attentionQuery, 7), ("blk.3.attn_k.weight", 2, .attentionKey, 3),
            ("model.layers.11.self_attn.v_proj.weight", 2, .attentionValue, 11), ("blk.0.attn_output.weight", 2, .attentionOutput, 0),
            ("model.layers.2.mlp.gate_proj.weight", 2, .ffnGate, 2), ("blk.9.ffn_up.weight", 2, .ffnUp, 9),
            ("model.layers.23.mlp.down_proj.weight", 2, .ffnDown, 23), ("model.norm.weight", 1, .norm, nil),
            ("model.layers.0.input_layernorm.weight", 1, .norm, 0), ("blk.0.attn_norm.weight", 1, .norm, 0),
            ("model.vision_tower.vision_tower.vision_model.encoder.layers.3.mlp.fc1.weight", 2, .visionTower, 3),
            ("model.mm_projector.peg.peg.0.weight", 4, .projector, nil),
        ]
        for (name, rank, role, layer) in cases {
            let classified = TensorRole.classify(name, rank: rank)
            #expect(classified.role == role, "\(name)")
            #expect(classified.layer == layer, "\(name)")
        }
    }

    /// llama.cpp's Q4_K_M for a 24-layer model: attn_v and ffn_down get Q6_K in layers
    /// 0-2 (first eighth), 21-23 (last eighth) and every third between (5, 8, ..., 20).
    @Test("q4_k_m follows llama.cpp's use_more_bits rule")
    func q4KM() {
        let preset = QuantizationPreset(.q4_k_m)
        let expected: Set<Int> = [0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23]
        for layer in 0..<24 {
            for role in [TensorRole.attentionValue, .ffnDown] {
                let (storage, _) = preset.storage(role: role, layer: layer, layerCount: 24, rank: 2, tiedEmbeddings: false)
                #expect(storage == .quantized(expected.contains(layer) ? .q6_K : .q4_K), "\(role) \(layer)")
            }
            let (q, _) = preset.storage(role: .attentionQuery, layer: layer, layerCount: 24, rank: 2, tiedEmbeddings: false)
            #expect(q == .quantized(.q4_K))
        }
        #expect(preset.storage(role: .outputHead, layer: nil, layerCount: 0, rank: 2, tiedEmbeddings: false).0 == .quantized(.q6_K))
        #expect(preset.storage(role: .tokenEmbedding, layer: nil, layerCount: 0, rank: 2, tiedEmbeddings: false).0 == .quantized(.q4_K))
        #expect(preset.storage(role: .tokenEmbedding, layer: nil, layerCount: 0, rank: 2, tiedEmbeddings: true).0 == .quantized(.q6_K))
        #expect(preset.storage(role: .norm, layer: 3, layerCount: 24, rank: 1, tiedEmbeddings: false).0 == .float(.float32))
        // The vision tower's block matrices and the projector's MLP: Q8_0 (8-bit products);
        // the tower's embeddings (no layer) and the projector's convolutions (rank 4) F16.
        #expect(preset.storage(role: .visionTower, layer: 3, layerCount: 24, rank: 2, tiedEmbeddings: false).0 == .quantized(.q8_0))
        #expect(preset.storage(role: .projector, layer: nil, layerCount: 0, rank: 2, tiedEmbeddings: false).0 == .quantized(.q8_0))
        #expect(preset.storage(role: .visionTower, layer: nil, layerCount: 24, rank: 2, tiedEmbeddings: false).0 == .float(.float16))
        #expect(preset.storage(role: .visionTower, layer: nil, layerCount: 24, rank: 4, tiedEmbeddings: false).0 == .float(.float16))
        #expect(preset.storage(role: .projector, layer: nil, layerCount: 0, rank: 4, tiedEmbeddings: false).0 == .float(.float16))
        #expect(preset.storage(role: .visionTower, layer: 3, layerCount: 24, rank: 1, tiedEmbeddings: false).0 == .float(.float32))
        for name in [QuantizationPreset.Name.q8_0, .q4_0, .default] {
            #expect(QuantizationPreset(name).storage(role: .visionTower, layer: 0, layerCount: 24, rank: 2, tiedEmbeddings: false).0 == .quantized(.q8_0))
        }
        // The f16 preset keeps the whole encoder F16.
        #expect(QuantizationPreset(.f16).storage(role: .visionTower, layer: 3, layerCount: 24, rank: 2, tiedEmbeddings: false).0 == .float(.float16))
        #expect(QuantizationPreset(.f16).storage(role: .projector, layer: nil, layerCount: 0, rank: 2, tiedEmbeddings: false).0 == .float(.float16))
    }

    @Test("q4_0 and q8_0 presets")
    func legacyPresets() {
        let q4 = QuantizationPreset(.q4_0)
        #expect(q4.storage(role: .ffnDown, layer: 0, layerCount: 24, rank: 2, tiedEmbeddings: false).0 == .quantized(.q4_0))
        #expect(q4.storage(role: .outputHead, layer: nil, layerCount: 0, rank: 2, tiedEmbeddings: false).0 == .quantized(.q6_K))
        let q8 = QuantizationPreset(.q8_0)
        #expect(q8.storage(role: .outputHead, layer: nil, layerCount: 0, rank: 2, tiedEmbeddings: false).0 == .quantized(.q8_0))
    }

    @Test("fallbacks for rows that do not fit a block, as llama.cpp where we have the type")
    func fallbacks() {
        #expect(QuantizationPreset.fallback(for: .quantized(.q4_K), rowLength: 4096) == nil)
        #expect(QuantizationPreset.fallback(for: .quantized(.q4_K), rowLength: 576)?.0 == .quantized(.q5_0))
        #expect(QuantizationPreset.fallback(for: .quantized(.q6_K), rowLength: 576)?.0 == .quantized(.q8_0))
        #expect(QuantizationPreset.fallback(for: .quantized(.q4_0), rowLength: 100)?.0 == .float(.float16))
        #expect(QuantizationPreset.fallback(for: .quantized(.affineInt4(groupSize: 128)), rowLength: 96)?.0 == .quantized(.affineInt4(groupSize: 32)))
    }

    @Test("override globs and parsing errors")
    func overrides() throws {
        let override = try TensorOverride(parsing: "model.layers.*.mlp.*=Q8_0")
        #expect(override.storage == .quantized(.q8_0))
        #expect(override.matches("model.layers.3.mlp.down_proj.weight"))
        #expect(!override.matches("model.layers.3.self_attn.q_proj.weight"))
        #expect(try TensorOverride(parsing: "lm_head.weight=f16").storage == .float(.float16))
        #expect(try TensorOverride(parsing: "a?c=AFFINE4_G64").matches("abc"))
        #expect(TensorOverride(pattern: "*", storage: .keep).matches(""))
        #expect(!TensorOverride(pattern: "a*b*c", storage: .keep).matches("aXbY"))
        #expect(throws: MVLMError.self) { try TensorOverride(parsing: "lm_head.weight") }
        #expect(throws: MVLMError.self) { try TensorOverride(parsing: "lm_head.weight=Q9_9") }
        #expect(throws: MVLMError.self) { try TensorOverride(parsing: "=Q8_0") }
    }
}
