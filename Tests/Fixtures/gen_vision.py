#!/usr/bin/env python3
"""Writes tiny MobileVLM V1 and V2 checkpoints in the hub's layout, and what an independent oracle
computes for them (the vision golden tests, MVLMModelsTests/VisionGoldenTests).

Layout (as mtgv/MobileVLM-1.7B and mtgv/MobileVLM_V2-1.7B ship it, at toy widths but the real
336 px / patch 14 / 576 -> 144 geometry):

    vision/tiny_v1/   config.json (model_type mobilevlm, mm_projector_type ldpnet, hub-style
                      mm_vision_tower name that is NOT a known tower: --vision-tower is needed),
                      pytorch_model.bin (bf16, torch.save zip, one file), tokenizer.model
    vision/tiny_v2/   the same with ldpnetv2; mm_vision_tower is the relative folder ../tiny_clip
    vision/tiny_clip/ a CLIPVisionModel folder: config.json + preprocessor_config.json (no weights
                      needed; the tower's weights live in the MobileVLM checkpoint)
    vision/image.png  a non-square 400x300 RGB test image
    vision/pixels.npy float32 [3, 336, 336]: CLIPImageProcessor(expand2square(image.png))
    vision/tiny_vN/reference/
        vision_features.npy  [576, 64]  CLIPVisionModel hidden_states[-2] without CLS
        image_features.npy   [144, 64]  the projector's output
        logits.npy           [P, vocab] logits at the positions listed in reference.json
        reference.json       prompt ids (with -200), positions of logits.npy, 16 greedy ids,
                             the smallest top-1/top-2 logit gap while decoding

The oracle: transformers' CLIPVisionModel and LlamaForCausalLM, and LDP / LDPv2 written below in
plain torch from the upstream module definitions (MobileVLM's vision_projector.py built on
torchvision's InvertedResidual + SqueezeExcitation(scale_activation=Hardsigmoid) and timm's
LayerNormAct2d), in float32 with the bf16-rounded weights that are saved. The multimodal prompt
follows MobileVLM's prepare_inputs_labels_for_multimodal: the -200 id is replaced by the 144 image
rows; positions run over the spliced sequence.

Deterministic (fixed seeds). Run:  /work/tvenv/bin/python Tests/Fixtures/gen_vision.py
(needs torch, transformers, pillow, sentencepiece, numpy).
"""
import json
import math
import os
import shutil

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "vision")
TOKENIZER = os.path.join(HERE, "tokenizer", "sp_bpe.model")
IMAGE_TOKEN_INDEX = -200
NEW_TOKENS = 16
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives "
          "helpful, detailed, and polite answers to the user's questions.")
PROMPT = SYSTEM + " USER: <image>\nWhat is in the image? ASSISTANT:"

TOWER = dict(hidden_size=64, intermediate_size=128, num_attention_heads=4, num_hidden_layers=3,
             image_size=336, patch_size=14, num_channels=3, layer_norm_eps=1e-5, hidden_act="quick_gelu",
             projection_dim=32)
LM = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
          num_key_value_heads=4, vocab_size=3000, max_position_embeddings=512, rms_norm_eps=1e-6,
          rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0)


# ---- LDP (V1), from MobileVLM's vision_projector.py and the torchvision / timm blocks it uses ----

def make_divisible(v, divisor=8, min_value=None):
    # torchvision.models._utils._make_divisible
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class LayerNormAct2d(nn.LayerNorm):
    """timm.layers.norm_act.LayerNormAct2d with act_layer=None: LayerNorm over channels of NCHW."""

    def __init__(self, num_channels, eps=1e-5):
        super().__init__(num_channels, eps=eps)
        self.drop = nn.Identity()
        self.act = nn.Identity()

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        x = x.permute(0, 3, 1, 2)
        return self.act(self.drop(x))


class SqueezeExcitation(nn.Module):
    """torchvision.ops.misc.SqueezeExcitation(scale_activation=nn.Hardsigmoid)."""

    def __init__(self, input_channels, squeeze_channels):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x):
        s = self.avgpool(x)
        s = self.fc2(self.activation(self.fc1(s)))
        return self.scale_activation(s) * x


def conv_norm_act(inc, ouc, kernel, stride, groups, act):
    # torchvision.ops.misc.Conv2dNormActivation: conv (bias=False with a norm), norm, activation.
    layers = [nn.Conv2d(inc, ouc, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False), LayerNormAct2d(ouc)]
    if act:
        layers.append(nn.Hardswish())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """torchvision.models.mobilenetv3.InvertedResidual for InvertedResidualConfig(c, 3, c, c, True,
    "HS", stride, 1, 1): expanded == input channels, so no expansion conv."""

    def __init__(self, channels, stride):
        super().__init__()
        self.block = nn.Sequential(
            conv_norm_act(channels, channels, 3, stride, channels, True),
            SqueezeExcitation(channels, make_divisible(channels // 4, 8)),
            conv_norm_act(channels, channels, 1, 1, 1, False),
        )
        self.use_res_connect = stride == 1

    def forward(self, x):
        y = self.block(x)
        return y + x if self.use_res_connect else y


class LDPBlock(nn.Module):
    def __init__(self, inc, ouc):
        super().__init__()
        self.mlp = nn.Sequential(nn.Identity(), nn.Linear(inc, ouc), nn.GELU(), nn.Linear(ouc, ouc))
        self.mb_block = nn.Sequential(nn.Identity(), InvertedResidual(ouc, 1), InvertedResidual(ouc, 2))

    def forward(self, x):
        b, num_tokens, c = x.shape
        h = int(math.sqrt(num_tokens))
        x = self.mlp(x)
        x = x.permute(0, 2, 1).reshape(b, -1, h, h)
        x = self.mb_block(x)
        return x.flatten(2).permute(0, 2, 1)


class LDPNetProjector(nn.Module):
    def __init__(self, inc, ouc):
        super().__init__()
        self.model = LDPBlock(inc, ouc)

    def forward(self, x):
        return self.model(x)


# ---- LDPv2 (V2) ----

class FeatureIRLayer(nn.Module):
    def __init__(self, inc, ouc):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(inc, ouc), nn.GELU(), nn.Linear(ouc, ouc))

    def forward(self, x):
        return self.mlp(x)


class TokenDownLayer(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.dwn = nn.Sequential(nn.AdaptiveAvgPool2d(shape))

    def forward(self, x):
        b, num_tokens, c = x.shape
        h = int(math.sqrt(num_tokens))
        x = x.permute(0, 2, 1).reshape(b, -1, h, h)
        x = self.dwn(x)
        return x.flatten(2).transpose(1, 2)


class PosInjectLayer(nn.Module):
    def __init__(self, inc, ouc, stride=1):
        super().__init__()
        self.peg = nn.Sequential(nn.Conv2d(inc, ouc, 3, stride, 1, bias=True, groups=ouc))

    def forward(self, x):
        b, num_tokens, c = x.shape
        h = int(math.sqrt(num_tokens))
        cnn_feat = x.transpose(1, 2).view(b, c, h, h)
        x = self.peg(cnn_feat) + cnn_feat
        return x.flatten(2).transpose(1, 2)


class LDPNetV2Projector(nn.Module):
    def __init__(self, inc, ouc):
        super().__init__()
        self.mlp = FeatureIRLayer(inc, ouc)
        self.dwn = TokenDownLayer((12, 12))
        self.peg = PosInjectLayer(ouc, ouc, stride=1)

    def forward(self, x):
        return self.peg(self.dwn(self.mlp(x)))


# ---- helpers ----

def randomize(module, generator, gain=1.2):
    """Random weights large enough that every block matters (the default init is near zero):
    norm scales near 1, biases small, matrices and filters ~ gain / sqrt(fan_in)."""
    with torch.no_grad():
        norms = set()
        for m in module.modules():
            if isinstance(m, nn.LayerNorm) or type(m).__name__.endswith("RMSNorm"):
                norms.add(id(m.weight))
                m.weight.copy_(1 + 0.1 * torch.randn(m.weight.shape, generator=generator))
                if getattr(m, "bias", None) is not None:
                    norms.add(id(m.bias))
                    m.bias.copy_(0.05 * torch.randn(m.bias.shape, generator=generator))
        for p in module.parameters():
            if id(p) in norms:
                continue
            if p.dim() == 1:
                p.copy_(0.05 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) * gain / math.sqrt(p[0].numel()))


def bf16_roundtrip(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.to(torch.bfloat16).to(torch.float32))


def expand2square(img, background):
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    result = Image.new(img.mode, (side, side), background)
    result.paste(img, ((side - w) // 2, (side - h) // 2))
    return result


def make_image(path):
    img = Image.new("RGB", (400, 300))
    px = img.load()
    for y in range(300):
        for x in range(400):
            px[x, y] = ((x * 255) // 399, (y * 255) // 299, ((x + y) * 7) % 256)
    draw = ImageDraw.Draw(img)
    draw.ellipse((60, 40, 220, 200), fill=(250, 30, 30))
    draw.rectangle((240, 120, 380, 280), fill=(20, 200, 90))
    draw.line((0, 299, 399, 0), fill=(255, 255, 255), width=5)
    img.save(path)


def tokenizer_image_token(sp, prompt):
    """MobileVLM's mobilevlm.utils.tokenizer_image_token with a LLaMA tokenizer (bos added per
    chunk, kept once)."""
    chunks = [[1] + sp.encode(chunk) for chunk in prompt.split("<image>")]
    ids = [chunks[0][0]]
    for i, chunk in enumerate(chunks):
        if i > 0:
            ids.append(IMAGE_TOKEN_INDEX)
        ids.extend(chunk[1:])
    return ids


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    sp = spm.SentencePieceProcessor(model_file=TOKENIZER)
    assert sp.vocab_size() == LM["vocab_size"]

    # The CLIP folder: config + preprocessing, as a CLIPVisionModel folder has them.
    clip_dir = os.path.join(OUT, "tiny_clip")
    os.makedirs(clip_dir)
    tower_config = CLIPVisionConfig(**TOWER)
    tower_config.to_json_file(os.path.join(clip_dir, "config.json"))
    processor = CLIPImageProcessor(
        size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}, do_center_crop=True,
        do_resize=True, do_rescale=True, rescale_factor=1 / 255, do_normalize=True, image_mean=MEAN,
        image_std=STD, resample=3, do_convert_rgb=True)
    processor.save_pretrained(clip_dir)

    image_path = os.path.join(OUT, "image.png")
    make_image(image_path)
    image = Image.open(image_path).convert("RGB")
    image = expand2square(image, tuple(int(x * 255) for x in MEAN))
    pixels = processor.preprocess(image, return_tensors="pt")["pixel_values"][0].to(torch.float32)
    np.save(os.path.join(OUT, "pixels.npy"), pixels.contiguous().numpy().astype(np.float32))

    prompt_ids = tokenizer_image_token(sp, PROMPT)

    for version, projector_type, tower_name, seed in [
        ("v1", "ldpnet", "mobilevlm-tests/tiny-clip-vit-336", 11),
        ("v2", "ldpnetv2", "../tiny_clip", 12),
    ]:
        g = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        clip = CLIPVisionModel(tower_config).eval()
        llama_config = LlamaConfig(**LM)
        llama = LlamaForCausalLM(llama_config).eval()
        projector = (LDPNetProjector if version == "v1" else LDPNetV2Projector)(TOWER["hidden_size"], LM["hidden_size"]).eval()
        for module in (clip, llama, projector):
            randomize(module, g)
            bf16_roundtrip(module)

        folder = os.path.join(OUT, f"tiny_{version}")
        ref = os.path.join(folder, "reference")
        os.makedirs(ref)
        state = {}
        for k, v in llama.state_dict().items():
            state[k] = v
        for k, v in clip.state_dict().items():
            # The hub's checkpoints were saved by transformers 4, whose CLIPVisionModel nests the
            # tower under `vision_model.` (transformers 5 drops that level in state_dict()).
            if not k.startswith("vision_model."):
                k = "vision_model." + k
            state["model.vision_tower.vision_tower." + k] = v
        for k, v in projector.state_dict().items():
            state["model.mm_projector." + k] = v
        state = {k: v.to(torch.bfloat16).contiguous() for k, v in state.items()}
        torch.save(state, os.path.join(folder, "pytorch_model.bin"))
        shutil.copy(TOKENIZER, os.path.join(folder, "tokenizer.model"))
        config = {
            "architectures": ["MobileLlamaForCausalLM"], "model_type": "mobilevlm",
            **{k: v for k, v in LM.items()}, "hidden_act": "silu",
            "mm_hidden_size": TOWER["hidden_size"], "mm_projector_type": projector_type,
            "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch", "mm_vision_tower": tower_name,
            "mm_use_im_start_end": False, "mm_use_im_patch_token": False, "image_aspect_ratio": "pad",
            "torch_dtype": "bfloat16", "vision_tower_type": "clip", "use_cache": True,
        }
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
                       "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False, "legacy": True}, f, indent=2)

        with torch.no_grad():
            out = clip(pixels[None], output_hidden_states=True)
            features = out.hidden_states[-2][:, 1:]
            image_features = projector(features)
            embed = llama.model.embed_tokens
            rows = []
            for token in prompt_ids:
                if token == IMAGE_TOKEN_INDEX:
                    rows.append(image_features[0])
                else:
                    rows.append(embed(torch.tensor([token])))
            embeds = torch.cat(rows, dim=0)[None]
            logits = llama(inputs_embeds=embeds).logits[0]
            # Greedy decoding with the spliced prompt, recording the top-1/top-2 gaps.
            seq = embeds
            generated, gaps = [], []
            past = None
            step_input = embeds
            for _ in range(NEW_TOKENS):
                o = llama(inputs_embeds=step_input, past_key_values=past, use_cache=True)
                past = o.past_key_values
                last = o.logits[0, -1]
                top = torch.topk(last, 2).values
                gaps.append(float(top[0] - top[1]))
                token = int(torch.argmax(last))
                generated.append(token)
                step_input = embed(torch.tensor([[token]]))
            # Cross-check with transformers' own generate on the same embeddings.
            reference_generate = llama.generate(inputs_embeds=embeds, max_new_tokens=NEW_TOKENS, do_sample=False,
                                                min_new_tokens=NEW_TOKENS, eos_token_id=None, pad_token_id=0)[0].tolist()
            assert reference_generate[-NEW_TOKENS:] == generated, (reference_generate, generated)

        total = embeds.shape[1]
        image_start = prompt_ids.index(IMAGE_TOKEN_INDEX)
        positions = sorted(set([0, image_start, image_start + 71, image_start + 143, image_start + 144, total - 2, total - 1]))
        np.save(os.path.join(ref, "vision_features.npy"), features[0].contiguous().numpy().astype(np.float32))
        np.save(os.path.join(ref, "image_features.npy"), image_features[0].contiguous().numpy().astype(np.float32))
        np.save(os.path.join(ref, "logits.npy"), logits[positions].contiguous().numpy().astype(np.float32))
        with open(os.path.join(ref, "reference.json"), "w") as f:
            json.dump({
                "prompt": PROMPT, "prompt_ids": prompt_ids, "spliced_length": total,
                "logits_positions": positions, "greedy": generated, "min_top2_gap": min(gaps),
                "image_token_count": int(image_features.shape[1]),
            }, f, indent=1)
        print(f"{version}: {total} positions, greedy {generated}, min gap {min(gaps):.4f}, "
              f"bin {os.path.getsize(os.path.join(folder, 'pytorch_model.bin'))} bytes")


if __name__ == "__main__":
    main()
