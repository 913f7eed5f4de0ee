#!/usr/bin/env python3
"""Safetensors fixtures, written by the `safetensors` package (torch and numpy front ends).

Good files get an entry in expected.json (names, dtypes, shapes, values as floats); hostile files
are byte-level edits of good ones, each with the reason it must be refused.
"""
import json
import pathlib
import struct

import numpy as np
import torch
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent / "safetensors"


def values(t: torch.Tensor):
    """Flattened values as JSON-safe floats (non-finite values spelled as strings)."""
    out = []
    for v in t.detach().to(torch.float64).flatten().tolist():
        out.append(v if v == v and abs(v) != float("inf") else ("nan" if v != v else ("inf" if v > 0 else "-inf")))
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    g = torch.Generator().manual_seed(1234)
    expected = {}

    # Every dtype the format has and torch writes.
    tensors = {
        "f64": torch.randn(3, 2, generator=g, dtype=torch.float64),
        "f32": torch.randn(4, 5, generator=g),
        "f16": torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1035e-05, 5.96e-08, float("inf"), float("-inf")], dtype=torch.float16),
        "bf16": (torch.randn(2, 3, 4, generator=g) * 100).to(torch.bfloat16),
        "i64": torch.tensor([[-(2**40), 0, 2**40]], dtype=torch.int64),
        "i32": torch.arange(-6, 6, dtype=torch.int32).reshape(3, 4),
        "i16": torch.tensor([-32768, 0, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 254, 255], dtype=torch.uint8),
        "u16": torch.tensor([0, 65535], dtype=torch.uint16),
        "u32": torch.tensor([0, 4294967295], dtype=torch.uint32),
        "u64": torch.tensor([0, 12345678901], dtype=torch.uint64),
        "bool": torch.tensor([True, False, True]),
        "f8_e4m3": torch.tensor([0.5, -1.0, 2.0], dtype=torch.float8_e4m3fn),
        "f8_e5m2": torch.tensor([0.5, -1.0, 4.0], dtype=torch.float8_e5m2),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0),
        "empty_2d": torch.zeros(3, 0, dtype=torch.float16),
    }
    meta = {"format": "pt", "note": "fixture"}
    save_file(tensors, OUT / "all_dtypes.safetensors", metadata=meta)
    expected["all_dtypes.safetensors"] = {
        "metadata": meta,
        "tensors": {
            name: {
                "dtype": {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
                          torch.uint8: "U8", torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64",
                          torch.bool: "BOOL", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2"}[t.dtype],
                "shape": list(t.shape),
                "values": values(t) if t.dtype not in (torch.float8_e4m3fn, torch.float8_e5m2, torch.uint64) else None,
            }
            for name, t in tensors.items()
        },
    }

    # A plain f32 file for the happy path and as the base of the hostile edits.
    base = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.ones(4, dtype=torch.float32)}
    save_file(base, OUT / "small.safetensors")
    expected["small.safetensors"] = {"metadata": {}, "tensors": {k: {"dtype": "F32", "shape": list(v.shape), "values": values(v)} for k, v in base.items()}}
    raw = (OUT / "small.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]

    def with_header(h: dict, body: bytes = data) -> bytes:
        text = json.dumps(h).encode()
        text += b" " * (-len(text) % 8)
        return struct.pack("<Q", len(text)) + text + body

    hostile = {}

    def bad(name: str, content: bytes, reason: str, code: str) -> None:
        (OUT / name).write_bytes(content)
        hostile[name] = {"reason": reason, "code": code}

    bad("hostile_empty.safetensors", b"", "empty file", "truncated")
    bad("hostile_truncated_data.safetensors", raw[:-5], "data section cut short", "out-of-bounds")
    bad("hostile_truncated_header.safetensors", raw[: 8 + n // 2], "header cut in the middle", "truncated")
    bad("hostile_huge_header_len.safetensors", struct.pack("<Q", 2**62) + raw[8:], "header length 2^62", "out-of-bounds")
    bad("hostile_header_past_end.safetensors", struct.pack("<Q", len(raw)) + raw[8:], "header length past end", "truncated")
    bad("hostile_not_json.safetensors", struct.pack("<Q", 8) + b"{garbage", "header not JSON", "malformed")
    h = json.loads(json.dumps(header)); h["b"]["data_offsets"] = [0, 16]
    bad("hostile_overlap.safetensors", with_header(h), "two tensors share bytes", "malformed")
    h = json.loads(json.dumps(header)); h["a"]["dtype"] = "Q9_9"
    bad("hostile_unknown_dtype.safetensors", with_header(h), "unknown dtype Q9_9", "unsupported")
    h = json.loads(json.dumps(header)); h["a"]["shape"] = [2**32, 2**32, 2**32]
    bad("hostile_shape_overflow.safetensors", with_header(h), "shape product overflows", "out-of-bounds")
    h = json.loads(json.dumps(header)); h["a"]["shape"] = [-2, -3]
    bad("hostile_negative_shape.safetensors", with_header(h), "negative dims", "out-of-bounds")
    h = json.loads(json.dumps(header)); h["a"]["shape"] = [3, 3]
    bad("hostile_size_mismatch.safetensors", with_header(h), "shape does not match byte range", "malformed")
    h = json.loads(json.dumps(header)); h["b"]["data_offsets"] = [24, 2**40]
    bad("hostile_offset_past_end.safetensors", with_header(h), "range past data end", "out-of-bounds")
    h = json.loads(json.dumps(header)); h["b"]["data_offsets"] = [30, 20]
    bad("hostile_reversed_offsets.safetensors", with_header(h), "begin > end", "out-of-bounds")
    h = json.loads(json.dumps(header)); h["b"]["shape"] = "four"
    bad("hostile_bad_shape_type.safetensors", with_header(h), "shape is not a list", "malformed")
    bad("hostile_garbage.safetensors", bytes(range(256)) * 4, "random bytes", "out-of-bounds")

    expected["hostile"] = hostile
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
