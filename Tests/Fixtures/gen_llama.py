#!/usr/bin/env python3
"""Writes the tiny LLaMA fixtures for the float-engine golden tests (MVLMModelsTests).

Each case is a random `LlamaForCausalLM` saved with `save_pretrained(safe_serialization=True)`
(config.json + model.safetensors) plus the reference that Hugging Face transformers computes:

    reference.json   prompt token ids, 32 greedy continuation ids (`generate(do_sample=False)`),
                     the logits shape, and the smallest top-1/top-2 logit gap seen while decoding
    logits.npy       float32 [prompt_len, vocab]: logits at every prompt position

References are computed in float32. For f16/bf16 checkpoints the saved (rounded) weights are
loaded back and upcast to float32 first, so the reference is exact for the weights on disk.

Deterministic: fixed seeds. Run:  /work/venv/bin/python Tests/Fixtures/gen_llama.py
"""
import json
import os
import shutil

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "llama")
NEW_TOKENS = 32

BASE = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    vocab_size=256,
    max_position_embeddings=256,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    initializer_range=0.15,
    tie_word_embeddings=False,
    bos_token_id=1,
    eos_token_id=2,
)

CASES = [
    # name, config overrides, weight dtype, prompt length, seed
    ("mha_f32", dict(), torch.float32, 64, 1),
    ("gqa_tied_f32", dict(num_attention_heads=8, num_key_value_heads=2, num_hidden_layers=3,
                          tie_word_embeddings=True, intermediate_size=100, vocab_size=300),
     torch.float32, 80, 2),
    ("gqa_f16", dict(num_attention_heads=8, num_key_value_heads=2), torch.float16, 72, 3),
    ("gqa_tied_bf16", dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True),
     torch.bfloat16, 96, 4),
    ("llama3_rope_bias_f32", dict(num_attention_heads=4, num_key_value_heads=1, attention_bias=True,
                                  mlp_bias=True, rope_theta=500000.0,
                                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                    high_freq_factor=4.0,
                                                    original_max_position_embeddings=32)),
     torch.float32, 64, 5),
    ("linear_rope_f32", dict(rope_scaling=dict(rope_type="linear", factor=2.0)), torch.float32, 64, 6),
]


def write_npy(path, array):
    array = np.ascontiguousarray(array, dtype="<f4")
    np.save(path, array)


def main():
    torch.use_deterministic_algorithms(True)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for name, overrides, dtype, prompt_len, seed in CASES:
        torch.manual_seed(seed)
        config = LlamaConfig(**{**BASE, **overrides})
        model = LlamaForCausalLM(config).eval()
        # Random norm weights and biases too, so a swapped or ignored tensor shows.
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if pname.endswith("norm.weight"):
                    p.copy_(1.0 + 0.2 * torch.randn_like(p))
                elif pname.endswith(".bias"):
                    p.copy_(0.1 * torch.randn_like(p))
        folder = os.path.join(OUT, name)
        model.to(dtype).save_pretrained(folder, safe_serialization=True)
        # The reference runs in float32 on exactly the weights written to disk.
        reference = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
        gen = torch.Generator().manual_seed(seed + 100)
        prompt = torch.randint(3, config.vocab_size, (1, prompt_len), generator=gen)
        with torch.no_grad():
            logits = reference(prompt).logits[0].float().numpy()
            out = reference.generate(prompt, do_sample=False, max_new_tokens=NEW_TOKENS,
                                     min_new_tokens=NEW_TOKENS, output_scores=True,
                                     return_dict_in_generate=True, pad_token_id=0)
        generated = out.sequences[0, prompt_len:].tolist()
        gaps = []
        for scores in out.scores:
            top = torch.topk(scores[0].float(), 2).values
            gaps.append(float(top[0] - top[1]))
        write_npy(os.path.join(folder, "logits.npy"), logits)
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump({
                "prompt": prompt[0].tolist(),
                "generated": generated,
                "logits_shape": list(logits.shape),
                "max_abs_logit": float(np.abs(logits).max()),
                "min_greedy_gap": min(gaps),
                "weights_dtype": str(dtype).replace("torch.", ""),
            }, f, indent=1)
        for extra in ("generation_config.json",):
            p = os.path.join(folder, extra)
            if os.path.exists(p):
                os.remove(p)
        print(f"{name}: prompt {prompt_len}, max|logit| {np.abs(logits).max():.3f}, "
              f"min greedy gap {min(gaps):.4f}, generated {generated[:8]}...")


if __name__ == "__main__":
    main()
