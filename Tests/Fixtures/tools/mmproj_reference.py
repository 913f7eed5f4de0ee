#!/usr/bin/env python3
"""Torch reference for the image embedding llama.cpp's mtmd computes from a MobileVLM V2 (LDPv2)
mmproj written by `mvlm convert --format gguf`, for a uniform 0.5 input (what
`llama-mtmd-debug -p encode -n 336 --image gray` feeds the encoder).

Runs the folder's CLIP tower (transformers' CLIPVisionModel with the checkpoint's weights) and
MobileVLM V2's projector (Linear, GELU, Linear, 2x2 average pool to 12x12, depthwise 3x3 PEG with
residual) on the hidden state `mm_vision_select_layer` -2 selects, and, for contrast, on the one a
block earlier. llama.cpp's llava graph orders the sequence [patches..., CLS] with positions 0..576
and keeps rows 1..576 (clip.cpp, models/llava.cpp); the second pair of sums uses that order. Prints
sums, and the first and last three channels of tokens (y, x) for y < 3 and x in 0..2, 9..11 in the
layout llama-mtmd-debug prints, to compare with its output.

Usage: mmproj_reference.py FOLDER   (a folder from gen_gguf_export.py --mtmd; needs torch, transformers)
"""
import json
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import CLIPVisionConfig, CLIPVisionModel

folder = sys.argv[1]
vision = json.load(open(folder + "/config.json"))["vision_config"]
state = load_file(folder + "/model.safetensors")
clip = CLIPVisionModel(CLIPVisionConfig(
    hidden_size=vision["hidden_size"], intermediate_size=vision["intermediate_size"],
    num_hidden_layers=vision["num_hidden_layers"], num_attention_heads=vision["num_attention_heads"],
    image_size=336, patch_size=14, hidden_act="quick_gelu", layer_norm_eps=1e-5))
prefix = "model.vision_tower.vision_tower.vision_model."
clip.load_state_dict({k[len(prefix):]: v.float() for k, v in state.items() if k.startswith(prefix)}, strict=False)
clip.eval()


def weight(name):
    return state["model.mm_projector." + name].float()


def project(features, approximate="none"):
    x = F.linear(features, weight("mlp.mlp.0.weight"), weight("mlp.mlp.0.bias"))
    x = F.gelu(x, approximate=approximate)
    x = F.linear(x, weight("mlp.mlp.2.weight"), weight("mlp.mlp.2.bias"))
    side = int(x.shape[1] ** 0.5)
    x = F.adaptive_avg_pool2d(x.permute(0, 2, 1).reshape(1, -1, side, side), 12)
    x = F.conv2d(x, weight("peg.peg.0.weight"), weight("peg.peg.0.bias"), padding=1, groups=x.shape[1]) + x
    return x.flatten(2).transpose(1, 2)


pixels = torch.full((1, 3, 336, 336), 0.5)
with torch.no_grad():
    hidden = clip(pixels, output_hidden_states=True).hidden_states
    for label, index in (("HF order, select -2", -2), ("HF order, one block short", -3)):
        print(label, "sum", round(float(project(hidden[index][:, 1:]).sum()), 6))
    embeddings = clip.embeddings
    patches = embeddings.patch_embedding(pixels).flatten(2).transpose(1, 2)
    x = torch.cat([patches, embeddings.class_embedding.view(1, 1, -1)], dim=1) + embeddings.position_embedding.weight[None]
    outputs = [clip.pre_layrnorm(x)]
    for layer in clip.encoder.layers:
        y = layer(outputs[-1], None)
        outputs.append(y[0] if isinstance(y, tuple) else y)
    selected = len(outputs) - 2  # hidden state -2
    for label, blocks in (("llama.cpp order, select -2", selected), ("llama.cpp order, one block short", selected - 1)):
        print(label, "sum", round(float(project(outputs[blocks][:, 1:], "tanh").sum()), 6))
    result = project(outputs[selected][:, 1:], "tanh")
    for y in range(3):
        for x in [0, 1, 2, 9, 10, 11]:
            token = result[0, y * 12 + x]
            print("ref", y, x, " ".join(f"{float(v):.4f}" for v in list(token[:3]) + list(token[-3:])))
