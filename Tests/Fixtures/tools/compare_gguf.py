#!/usr/bin/env python3
"""Compares two GGUF files with gguf-py (llama.cpp's own reader): every metadata key (type and
value) and every tensor (type, shape, bytes; for differing bytes the largest dequantized
difference). Used by docs/gguf-export.md to check `mvlm convert --format gguf` against files
llama.cpp's converter and quantizer wrote.

Usage: compare_gguf.py OURS.gguf THEIRS.gguf [--skip key,key] [--skip-prefix tokenizer.]
Exit 0 when everything compared is identical.
"""
import argparse
import sys

import numpy as np
import gguf
from gguf.quants import dequantize

ap = argparse.ArgumentParser()
ap.add_argument("ours")
ap.add_argument("theirs")
ap.add_argument("--skip", default="")
ap.add_argument("--skip-prefix", default=None)
args = ap.parse_args()
skip = set(filter(None, args.skip.split(",")))


def fields(reader):
    out = {}
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in skip:
            continue
        if args.skip_prefix and field.name.startswith(args.skip_prefix):
            continue
        out[field.name] = ([gguf.GGUFValueType(t).name for t in field.types], field.contents())
    return out


a, b = gguf.GGUFReader(args.ours), gguf.GGUFReader(args.theirs)
fa, fb = fields(a), fields(b)
differences = 0
for key in sorted(set(fa) | set(fb)):
    if key not in fa or key not in fb:
        print(("only in theirs: " if key not in fa else "only in ours: ") + key)
        differences += 1
    elif fa[key] != fb[key]:
        print(f"differs: {key}: ours {repr(fa[key])[:120]} theirs {repr(fb[key])[:120]}")
        differences += 1
ta, tb = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}
identical = 0
for name in sorted(set(ta) | set(tb)):
    if name not in ta or name not in tb:
        print("tensor only in " + ("theirs: " if name not in ta else "ours: ") + name)
        differences += 1
        continue
    x, y = ta[name], tb[name]
    if x.tensor_type != y.tensor_type or list(x.shape) != list(y.shape):
        print(f"tensor {name}: ours {x.tensor_type.name} {list(x.shape)}, theirs {y.tensor_type.name} {list(y.shape)}")
        differences += 1
    elif x.data.tobytes() != y.data.tobytes():
        diff = np.abs(dequantize(x.data, x.tensor_type).astype(np.float64) - dequantize(y.data, y.tensor_type).astype(np.float64))
        print(f"tensor {name} ({x.tensor_type.name}): bytes differ, max |difference| {diff.max():.3g}")
        differences += 1
    else:
        identical += 1
print(f"{len(fb)} keys and {len(tb)} tensors compared ({identical} tensors byte-identical): {differences} differences")
sys.exit(1 if differences else 0)
