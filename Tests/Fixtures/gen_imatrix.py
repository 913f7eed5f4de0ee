#!/usr/bin/env python3
"""Reference importance matrix for the calibration test (MVLMVerifyTests): the mean squared
activation of every input column of every nn.Linear in transformers' LlamaForCausalLM, gathered
with forward pre-hooks while the model runs over the fixture prompt (one forward pass, all
positions, the output head included) — what llama-imatrix computes.

Reads Tests/Fixtures/llama/gqa_tied_f32 (written by gen_llama.py). Keys are the weight names as
the checkpoint has them; with tied embeddings the output head's statistics belong to
model.embed_tokens.weight (the tensor it reads).
Run: /work/venv/bin/python Tests/Fixtures/generate.py imatrix   (needs torch, transformers)
"""
import json
import pathlib

import torch
from transformers import LlamaForCausalLM

HERE = pathlib.Path(__file__).resolve().parent
FIXTURE = "gqa_tied_f32"


def main() -> None:
    folder = HERE / "llama" / FIXTURE
    model = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
    prompt = json.loads((folder / "reference.json").read_text())["prompt"]
    sums, rows = {}, {}

    def hook(name):
        def record(module, inputs):
            x = inputs[0].detach().to(torch.float64).reshape(-1, inputs[0].shape[-1])
            sums[name] = sums.get(name, 0) + (x * x).sum(dim=0)
            rows[name] = rows.get(name, 0) + x.shape[0]
        return record

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            weight = "model.embed_tokens.weight" if name == "lm_head" and model.config.tie_word_embeddings else name + ".weight"
            module.register_forward_pre_hook(hook(weight))
    with torch.no_grad():
        model(torch.tensor([prompt]))
    out = {name: {"rows": rows[name], "mean_squares": (sums[name] / rows[name]).tolist()} for name in sorted(sums)}
    (HERE / "verify").mkdir(exist_ok=True)
    (HERE / "verify" / f"imatrix_{FIXTURE}.json").write_text(
        json.dumps({"fixture": FIXTURE, "prompt": prompt, "importance": out}, indent=1) + "\n")
    print(f"{len(out)} linear layers")


if __name__ == "__main__":
    main()
