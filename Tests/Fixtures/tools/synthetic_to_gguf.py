#!/usr/bin/env python3
"""Writes an `mvlm synth` LLaMA folder (config.json + model.safetensors) as an f16 GGUF with gguf-py,
with a stub vocabulary, so llama.cpp's tools (llama-quantize, llama-bench) can run the same weights
side by side with mvlm. Tensor names follow llama.cpp's; Q/K rows are not permuted (the weights are
random; only sizes and types matter for timing). Usage: python synthetic_to_gguf.py DIR OUT.gguf
"""
import sys, json, numpy as np, gguf
from safetensors import safe_open
src, out = sys.argv[1], sys.argv[2]
cfg = json.load(open(f"{src}/config.json"))
w = gguf.GGUFWriter(out, "llama")
w.add_context_length(cfg["max_position_embeddings"]); w.add_embedding_length(cfg["hidden_size"])
w.add_block_count(cfg["num_hidden_layers"]); w.add_feed_forward_length(cfg["intermediate_size"])
w.add_head_count(cfg["num_attention_heads"]); w.add_head_count_kv(cfg["num_key_value_heads"])
w.add_layer_norm_rms_eps(cfg["rms_norm_eps"]); w.add_rope_freq_base(cfg["rope_theta"]); w.add_file_type(1)
names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
per = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
       "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
# tokenizer stub so llama.cpp can load the vocab
w.add_tokenizer_model("llama"); w.add_token_list([f"t{i}".encode() for i in range(cfg["vocab_size"])])
w.add_token_scores([0.0]*cfg["vocab_size"]); w.add_token_types([1]*cfg["vocab_size"])
f = safe_open(f"{src}/model.safetensors", "np")
for n in f.keys():
    if n in names: g = names[n]
    else:
        p = n.split("."); layer = p[2]; key = ".".join(p[3:-1]); g = f"blk.{layer}.{per[key]}.weight"
    t = f.get_tensor(n)
    if t.ndim == 1: t = t.astype(np.float32)
    w.add_tensor(g, t)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
