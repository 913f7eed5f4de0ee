#!/usr/bin/env python3
"""Checkpoint folders as users download them, written by transformers' save_pretrained and
torch.save: sharded safetensors and sharded .bin with their index, a CLIP vision folder, MobileVLM
V1/V2 folders in the hub's layout (one bf16 pytorch_model.bin), and broken indexes.

expected.json lists, per folder, the format, the architecture `mvlm inspect` must recognize, and
every tensor's dtype and shape as torch reports them.
"""
import json
import pathlib
import shutil

import torch
from transformers import CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlamaForCausalLM

OUT = pathlib.Path(__file__).resolve().parent / "checkpoints"
DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def tiny_llama(dtype=torch.bfloat16) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         tie_word_embeddings=False)
    return LlamaForCausalLM(config).to(dtype)


def write_sharded_bin(model, folder: pathlib.Path, shards: int) -> None:
    folder.mkdir(parents=True)
    model.config.save_pretrained(folder)
    state = model.state_dict()
    names = list(state)
    weight_map, total = {}, 0
    for k in range(shards):
        part = names[k::shards]
        file = f"pytorch_model-{k + 1:05d}-of-{shards:05d}.bin"
        torch.save({n: state[n].contiguous() for n in part}, folder / file)
        for n in part:
            weight_map[n] = file
            total += state[n].numel() * state[n].element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2))


def describe(state: dict) -> dict:
    return {name: {"dtype": DTYPES[t.dtype], "shape": list(t.shape)} for name, t in state.items()}


def mobilevlm_state(version: int) -> dict:
    """Tensor names exactly as mtgv/MobileVLM(-V2) checkpoints hold them, at toy sizes."""
    g = torch.Generator().manual_seed(version)
    hidden, mm_hidden = 32, 16

    def r(*shape):
        return torch.randn(*shape, generator=g).to(torch.bfloat16)

    state = {k: v.to(torch.bfloat16) for k, v in tiny_llama().state_dict().items()}
    if version == 1:
        p = "model.mm_projector.model."
        state[p + "mlp.1.weight"] = r(hidden, mm_hidden)
        state[p + "mlp.1.bias"] = r(hidden)
        state[p + "mlp.3.weight"] = r(hidden, hidden)
        state[p + "mlp.3.bias"] = r(hidden)
        for block in (1, 2):
            b = f"{p}mb_block.{block}.block."
            state[b + "0.0.weight"] = r(hidden, 1, 3, 3)
            state[b + "0.1.weight"] = r(hidden)
            state[b + "0.1.bias"] = r(hidden)
            state[b + "1.fc1.weight"] = r(8, hidden, 1, 1)
            state[b + "1.fc1.bias"] = r(8)
            state[b + "1.fc2.weight"] = r(hidden, 8, 1, 1)
            state[b + "1.fc2.bias"] = r(hidden)
            state[b + "2.0.weight"] = r(hidden, hidden, 1, 1)
            state[b + "2.1.weight"] = r(hidden)
            state[b + "2.1.bias"] = r(hidden)
    else:
        p = "model.mm_projector."
        state[p + "mlp.mlp.0.weight"] = r(hidden, mm_hidden)
        state[p + "mlp.mlp.0.bias"] = r(hidden)
        state[p + "mlp.mlp.2.weight"] = r(hidden, hidden)
        state[p + "mlp.mlp.2.bias"] = r(hidden)
        state[p + "peg.peg.0.weight"] = r(hidden, 1, 3, 3)
        state[p + "peg.peg.0.bias"] = r(hidden)
    v = "model.vision_tower.vision_tower.vision_model."
    state[v + "embeddings.class_embedding"] = r(mm_hidden)
    state[v + "embeddings.patch_embedding.weight"] = r(mm_hidden, 3, 14, 14)
    state[v + "embeddings.position_embedding.weight"] = r(5, mm_hidden)
    state[v + "pre_layrnorm.weight"] = r(mm_hidden)
    state[v + "pre_layrnorm.bias"] = r(mm_hidden)
    for layer in range(2):
        e = f"{v}encoder.layers.{layer}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            state[e + f"self_attn.{proj}.weight"] = r(mm_hidden, mm_hidden)
            state[e + f"self_attn.{proj}.bias"] = r(mm_hidden)
        state[e + "layer_norm1.weight"] = r(mm_hidden)
        state[e + "layer_norm1.bias"] = r(mm_hidden)
        state[e + "mlp.fc1.weight"] = r(64, mm_hidden)
        state[e + "mlp.fc1.bias"] = r(64)
        state[e + "mlp.fc2.weight"] = r(mm_hidden, 64)
        state[e + "mlp.fc2.bias"] = r(mm_hidden)
        state[e + "layer_norm2.weight"] = r(mm_hidden)
        state[e + "layer_norm2.bias"] = r(mm_hidden)
    return state


def mobilevlm_config(version: int) -> dict:
    return {
        "architectures": ["MobileLlamaForCausalLM"], "model_type": "mobilevlm",
        "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 64, "rms_norm_eps": 1e-6, "max_position_embeddings": 128,
        "mm_hidden_size": 16, "mm_projector_type": "ldpnet" if version == 1 else "ldpnetv2",
        "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
        "mm_vision_tower": "openai/clip-vit-large-patch14-336", "image_aspect_ratio": "pad",
        "torch_dtype": "bfloat16", "tie_word_embeddings": False,
    }


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    expected = {}

    model = tiny_llama()
    state = model.state_dict()
    model.save_pretrained(OUT / "llama_sharded_safetensors", max_shard_size="40KB", safe_serialization=True)
    # transformers 5 writes only safetensors; shard .bin files the way transformers 4 did
    # (torch.save per shard, pytorch_model-0000K-of-0000N.bin, pytorch_model.bin.index.json).
    write_sharded_bin(model, OUT / "llama_sharded_bin", shards=3)
    single = OUT / "llama_bin_and_safetensors"
    model.save_pretrained(single, safe_serialization=True)
    torch.save(state, single / "pytorch_model.bin")  # both files: safetensors is preferred
    for folder, fmt in (("llama_sharded_safetensors", "safetensors"), ("llama_sharded_bin", "pytorch"),
                        ("llama_bin_and_safetensors", "safetensors")):
        files = sorted(p.name for p in (OUT / folder).iterdir())
        expected[folder] = {"format": fmt, "architecture": "llama", "tensors": describe(state), "files": files}
    # transformers does not write tied/unused buffers; the number of shards is what it chose.
    for folder in ("llama_sharded_safetensors", "llama_sharded_bin"):
        index = next((OUT / folder).glob("*.index.json"))
        expected[folder]["shards"] = len(set(json.loads(index.read_text())["weight_map"].values()))
        assert expected[folder]["shards"] >= 2, folder

    torch.manual_seed(1)
    clip = CLIPVisionModel(CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                            num_attention_heads=2, image_size=28, patch_size=14))
    clip.save_pretrained(OUT / "clip_vision")
    expected["clip_vision"] = {"format": "safetensors", "architecture": "clip-vision",
                               "tensors": describe(clip.state_dict())}

    for version in (1, 2):
        folder = OUT / f"mobilevlm_v{version}"
        folder.mkdir()
        state_v = mobilevlm_state(version)
        torch.save(state_v, folder / "pytorch_model.bin")
        (folder / "config.json").write_text(json.dumps(mobilevlm_config(version), indent=2))
        expected[folder.name] = {"format": "pytorch", "architecture": f"mobilevlm-v{version}",
                                 "tensors": describe(state_v)}

    # Broken indexes, each with the word the error must contain.
    src = OUT / "llama_sharded_safetensors"
    index = json.loads((src / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    hostile = {}

    def broken(name: str, weight_map: dict, keyword: str, copy_shards=True) -> None:
        folder = OUT / name
        folder.mkdir()
        if copy_shards:
            for shard in shards:
                shutil.copy(src / shard, folder / shard)
        (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
        hostile[name] = keyword

    first = next(iter(index["weight_map"]))
    broken("hostile_index_traversal", {**index["weight_map"], first: "../../../etc/passwd"}, "leaves the checkpoint folder")
    broken("hostile_index_missing_shard", {**index["weight_map"], first: "model-00009-of-00009.safetensors"}, "does not exist")
    other = [s for s in shards if s != index["weight_map"][first]][0]
    broken("hostile_index_wrong_shard", {**index["weight_map"], first: other}, "but it is in")
    broken("hostile_index_unknown_tensor", {**index["weight_map"], "not.a.tensor": shards[0]}, "does not contain it")
    (OUT / "hostile_index_not_json").mkdir()
    (OUT / "hostile_index_not_json" / "model.safetensors.index.json").write_text("{\"weight_map\": [1, 2")
    hostile["hostile_index_not_json"] = "not a checkpoint index"
    # A Keras 3 .keras archive (a zip holding model.weights.h5), written by keras itself: users
    # mistake it for a weights file; mvlm must say what it is and what to do.
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    keras.utils.set_random_seed(0)
    tiny = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    tiny.save(OUT / "keras_archive.keras")
    hostile["keras_archive.keras"] = "unzip it and inspect its model.weights.h5"
    expected["hostile"] = hostile
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
