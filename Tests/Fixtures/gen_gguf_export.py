#!/usr/bin/env python3
"""Reference GGUF files for the GGUF export tests (Tests/MVLMConvertTests/GGUFExportTests.swift),
written by llama.cpp's own tools from tiny checkpoints, never by the code under test.

Writes Tests/Fixtures/gguf_export/:
  llama_bpe/     a random LlamaForCausalLM (GQA 4/2 heads, head_dim 8, 2 layers, vocab 1501, f16,
                 saved by transformers' save_pretrained) with the byte-level BPE tokenizer of
                 tokenizer/hf_bytelevel (SmolLM2's pre-tokenizer: Digits + ByteLevel), plus
                   reference-f16.gguf   convert_hf_to_gguf.py --outtype f16
                   reference-q8_0.gguf  convert_hf_to_gguf.py --outtype q8_0
                   reference-q4_0.gguf  llama-quantize reference-f16.gguf Q4_0 (when llama-quantize is found)
  llama_spm/     the same model shape with vocab 3000 and the SentencePiece model
                 tokenizer/sp_bpe.model as tokenizer.model (LLaMA's settings), plus
                   reference-f16.gguf   convert_hf_to_gguf.py --outtype f16
  mobilevlm_v2_mtmd/  (not committed: 2 MB) a MobileVLM V2 folder whose vision tower has CLIP
                 ViT-L/14-336's geometry (336 px, 14 px patches, 577 positions) at 64 wide and 3
                 blocks, an LDPv2 projector to a 64-wide 2-layer language model and the sp_bpe
                 tokenizer: small enough to convert in a second, shaped so llama.cpp's
                 llama-mtmd-cli (whose LDP graphs assume a 24x24 patch grid) can load and run it.
                 Written only with --mtmd DIR (add --ldp for a MobileVLM V1 / LDP projector).

Needs torch and transformers (the /work/tvenv of docs/gguf-export.md), and llama.cpp's source for
its converter (LLAMA_CPP=/path/to/llama.cpp; its gguf-py is used from there) and, for the q4_0
reference, LLAMA_QUANTIZE=/path/to/llama-quantize (with LD_LIBRARY_PATH set for its libraries).
convert_hf_to_gguf.py imports sentencepiece for tokenizer.model: put it on PYTHONPATH if the torch
venv lacks it. Deterministic: fixed seeds.

Run:  LLAMA_CPP=... LLAMA_QUANTIZE=... /work/tvenv/bin/python Tests/Fixtures/gen_gguf_export.py [--mtmd DIR]
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "gguf_export"
TOKENIZER = HERE / "tokenizer"


def llama(vocab: int, seed: int) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, vocab_size=vocab, max_position_embeddings=256,
        rms_norm_eps=1e-5, rope_theta=10000.0, initializer_range=0.15, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(config).to(torch.float16)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                parameter.copy_(1 + 0.1 * torch.randn_like(parameter))
    return model


# llama.cpp's converter names a byte-level BPE pre-tokenizer by hashing the ids of a probe text
# against a list of known models; a toy vocabulary is not in that list, so the runner tells it the
# name the tokenizer.json's pre-tokenizer (Digits(individual_digits) + ByteLevel) stands for.
RUNNER = """
import runpy, sys
sys.path.insert(0, sys.argv[1])
import conversion.base
pre = sys.argv[2]
if pre:
    conversion.base.TextModel.get_vocab_base_pre = lambda self, tokenizer: pre
sys.argv = [sys.argv[1] + "/convert_hf_to_gguf.py"] + sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def convert(folder: pathlib.Path, outtype: str, target: pathlib.Path, pre: str = "") -> None:
    llama_cpp = os.environ["LLAMA_CPP"]
    subprocess.run(
        [sys.executable, "-c", RUNNER, llama_cpp, pre, str(folder), "--outtype", outtype, "--outfile", str(target)],
        check=True)


def quantize(source: pathlib.Path, target: pathlib.Path, kind: str) -> None:
    tool = os.environ.get("LLAMA_QUANTIZE")
    if not tool:
        print(f"LLAMA_QUANTIZE not set: skipping {target.name}")
        return
    subprocess.run([tool, str(source), str(target), kind], check=True)


def write_bpe() -> None:
    folder = OUT / "llama_bpe"
    folder.mkdir(parents=True)
    llama(1501, seed=7).save_pretrained(folder, safe_serialization=True)
    shutil.copy(TOKENIZER / "hf_bytelevel" / "tokenizer.json", folder / "tokenizer.json")
    config = json.loads((TOKENIZER / "hf_bytelevel" / "tokenizer_config.json").read_text())
    config["eos_token"] = config["eos_token"]["content"]  # transformers wants a string here
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
    convert(folder, "f16", folder / "reference-f16.gguf", pre="smollm")
    convert(folder, "q8_0", folder / "reference-q8_0.gguf", pre="smollm")
    quantize(folder / "reference-f16.gguf", folder / "reference-q4_0.gguf", "Q4_0")


def write_spm() -> None:
    folder = OUT / "llama_spm"
    folder.mkdir(parents=True)
    llama(3000, seed=8).save_pretrained(folder, safe_serialization=True)
    shutil.copy(TOKENIZER / "sp_bpe.model", folder / "tokenizer.model")
    convert(folder, "f16", folder / "reference-f16.gguf")


def write_mtmd(folder: pathlib.Path, version: int = 2) -> None:
    """A MobileVLM (V2: LDPv2, V1: LDP) folder llama-mtmd-cli can run: tensor names as
    mtgv/MobileVLM(_V2) holds them."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    model = llama(3000, seed=9)
    g = torch.Generator().manual_seed(10)
    hidden, vision, ffn, blocks = 32, 64, 128, 3

    def r(*shape):
        return (0.05 * torch.randn(*shape, generator=g)).to(torch.float16)

    state = {k: v.to(torch.float16) for k, v in model.state_dict().items()}
    if version == 2:
        p = "model.mm_projector."
        state[p + "mlp.mlp.0.weight"] = r(hidden, vision)
        state[p + "mlp.mlp.0.bias"] = r(hidden)
        state[p + "mlp.mlp.2.weight"] = r(hidden, hidden)
        state[p + "mlp.mlp.2.bias"] = r(hidden)
        state[p + "peg.peg.0.weight"] = r(hidden, 1, 3, 3)
        state[p + "peg.peg.0.bias"] = r(hidden)
    else:
        p = "model.mm_projector.model."
        state[p + "mlp.1.weight"] = r(hidden, vision)
        state[p + "mlp.1.bias"] = r(hidden)
        state[p + "mlp.3.weight"] = r(hidden, hidden)
        state[p + "mlp.3.bias"] = r(hidden)
        for block in (1, 2):
            b = f"{p}mb_block.{block}.block."
            state[b + "0.0.weight"] = r(hidden, 1, 3, 3)
            state[b + "0.1.weight"] = 1 + r(hidden)
            state[b + "0.1.bias"] = r(hidden)
            state[b + "1.fc1.weight"] = r(hidden // 4, hidden, 1, 1)
            state[b + "1.fc1.bias"] = r(hidden // 4)
            state[b + "1.fc2.weight"] = r(hidden, hidden // 4, 1, 1)
            state[b + "1.fc2.bias"] = r(hidden)
            state[b + "2.0.weight"] = r(hidden, hidden, 1, 1)
            state[b + "2.1.weight"] = 1 + r(hidden)
            state[b + "2.1.bias"] = r(hidden)
    v = "model.vision_tower.vision_tower.vision_model."
    state[v + "embeddings.class_embedding"] = r(vision)
    state[v + "embeddings.patch_embedding.weight"] = r(vision, 3, 14, 14)
    state[v + "embeddings.position_embedding.weight"] = r(577, vision)
    state[v + "pre_layrnorm.weight"] = 1 + r(vision)
    state[v + "pre_layrnorm.bias"] = r(vision)
    for layer in range(blocks):
        e = f"{v}encoder.layers.{layer}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            state[e + f"self_attn.{proj}.weight"] = r(vision, vision)
            state[e + f"self_attn.{proj}.bias"] = r(vision)
        state[e + "layer_norm1.weight"] = 1 + r(vision)
        state[e + "layer_norm1.bias"] = r(vision)
        state[e + "mlp.fc1.weight"] = r(ffn, vision)
        state[e + "mlp.fc1.bias"] = r(ffn)
        state[e + "mlp.fc2.weight"] = r(vision, ffn)
        state[e + "mlp.fc2.bias"] = r(vision)
        state[e + "layer_norm2.weight"] = 1 + r(vision)
        state[e + "layer_norm2.bias"] = r(vision)
    state[v + "post_layernorm.weight"] = 1 + r(vision)
    state[v + "post_layernorm.bias"] = r(vision)
    from safetensors.torch import save_file
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.update({
        "architectures": ["MobileLlamaForCausalLM"], "model_type": "mobilevlm", "mm_hidden_size": vision,
        "mm_projector_type": "ldpnetv2" if version == 2 else "ldpnet", "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
        "mm_vision_tower": "openai/clip-vit-large-patch14-336", "image_aspect_ratio": "pad",
        "vision_config": {"hidden_size": vision, "intermediate_size": ffn, "num_hidden_layers": blocks,
                          "num_attention_heads": 4, "image_size": 336, "patch_size": 14,
                          "layer_norm_eps": 1e-5, "hidden_act": "quick_gelu", "projection_dim": 32},
    })
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    shutil.copy(TOKENIZER / "sp_bpe.model", folder / "tokenizer.model")


def main() -> None:
    if "--mtmd" in sys.argv:
        write_mtmd(pathlib.Path(sys.argv[sys.argv.index("--mtmd") + 1]), 1 if "--ldp" in sys.argv else 2)
        return
    if OUT.exists():
        shutil.rmtree(OUT)
    write_bpe()
    write_spm()


if __name__ == "__main__":
    main()
