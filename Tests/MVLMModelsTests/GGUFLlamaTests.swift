import MVLMCore
import MVLMModels
import Testing

@Suite("GGUF llama sources")
struct GGUFLlamaTests {
    @Test("tensor names map to Hugging Face names; unknown ones do not")
    func names() {
        #expect(GGUFLlama.huggingFaceName("token_embd.weight") == "model.embed_tokens.weight")
        #expect(GGUFLlama.huggingFaceName("blk.12.attn_q.weight") == "model.layers.12.self_attn.q_proj.weight")
        #expect(GGUFLlama.huggingFaceName("blk.0.ffn_down.weight") == "model.layers.0.mlp.down_proj.weight")
        #expect(GGUFLlama.huggingFaceName("blk.3.attn_norm.weight") == "model.layers.3.input_layernorm.weight")
        #expect(GGUFLlama.huggingFaceName("output.weight") == "lm_head.weight")
        #expect(GGUFLlama.huggingFaceName("blk.x.attn_q.weight") == nil)
        #expect(GGUFLlama.huggingFaceName("blk.1.attn_q.weight.extra") == nil)
        #expect(GGUFLlama.huggingFaceName("rope_freqs.weight") == nil)
    }

    @Test("metadata becomes a config with interleaved RoPE; missing keys are named")
    func config() throws {
        let metadata: [String: MetadataValue] = [
            "general.architecture": .string("llama"), "llama.embedding_length": .int(576), "llama.feed_forward_length": .int(1536),
            "llama.block_count": .int(30), "llama.attention.head_count": .int(9), "llama.attention.head_count_kv": .int(3),
            "llama.context_length": .int(8192), "llama.rope.freq_base": .float(100000), "llama.attention.layer_norm_rms_epsilon": .float(1e-5),
            "tokenizer.ggml.tokens": .array((0..<10).map { .string("t\($0)") }, elementType: "STRING"),
        ]
        let config = try GGUFLlama.config(metadata: metadata, tensorNames: ["token_embd.weight"])
        #expect(config["num_key_value_heads"] == .int(3) && config["vocab_size"] == .int(10))
        #expect(config["tie_word_embeddings"] == .bool(true) && config["mvlm_rope_interleaved"] == .bool(true))
        var noTokens = metadata
        noTokens["tokenizer.ggml.tokens"] = nil
        #expect { try GGUFLlama.config(metadata: noTokens, tensorNames: []) } throws: { error in
            "\(error)".contains("tokenizer.ggml.tokens") && "\(error)".contains("llama.vocab_size")
        }
        noTokens["llama.vocab_size"] = .int(10)
        #expect(try GGUFLlama.config(metadata: noTokens, tensorNames: [])["vocab_size"] == .int(10))
        var missing = metadata
        missing["llama.block_count"] = nil
        #expect { try GGUFLlama.config(metadata: missing, tensorNames: []) } throws: { error in
            "\(error)".contains("llama.block_count")
        }
    }
}
