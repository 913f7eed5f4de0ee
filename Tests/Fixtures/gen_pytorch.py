#!/usr/bin/env python3
"""PyTorch checkpoint fixtures, written by real torch.save (torch 2.13).

Good files get an entry in pytorch/expected.json: for each file, its tensors in order with dtype
(our spelling), shape, the values as floats (torch's own conversion) and the raw row-major bytes in
hex (torch's own byte view), plus the metadata the archive's small entries hold.

Hostile files are built from bytes: pickles that would run code are written opcode by opcode
(never from an object with __reduce__), and never loaded. Each is listed with why it must fail.
"""
import collections
import io
import json
import pathlib
import random
import struct
import zipfile

import torch

OUT = pathlib.Path(__file__).resolve().parent / "pytorch"

DTYPE_NAMES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL", torch.uint16: "U16", torch.uint32: "U32",
    torch.uint64: "U64", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
}
FLOAT_CONVERTIBLE = {torch.uint16, torch.uint32, torch.uint64}


def describe(t: torch.Tensor) -> dict:
    entry = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)}
    flat = t.detach().contiguous().flatten()
    if t.dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
        entry["values"] = None  # our floatValues() does not widen 8-bit floats
    elif t.dtype in FLOAT_CONVERTIBLE:
        entry["values"] = [float(v) for v in flat.to(torch.int64).tolist()]
    else:
        entry["values"] = flat.to(torch.float64).tolist()
    entry["hex"] = bytes(flat.view(torch.uint8).tolist()).hex()
    return entry


def flatten(obj, prefix=""):
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from flatten(v, f"{prefix}.{i}" if prefix else str(i))


def save_good(name: str, obj, expected: dict, via_bytes: bool = False, **kwargs) -> None:
    # torch's weights_only unpickler rejects protocol 4 (FRAME); these files are our own, so the
    # reference load for that one file uses the full unpickler.
    weights_only = kwargs.get("pickle_protocol", 2) == 2
    path = OUT / name
    if via_bytes:  # saving to a buffer names the top folder "archive", as old hub files have it
        buffer = io.BytesIO()
        torch.save(obj, buffer, **kwargs)
        path.write_bytes(buffer.getvalue())
    else:
        torch.save(obj, path, **kwargs)
    # The reference: what torch itself loads back, flattened the way our reader names tensors.
    loaded = torch.load(path, weights_only=weights_only)
    z = zipfile.ZipFile(path)
    top = z.namelist()[0].split("/")[0]
    metadata = {"byteorder": z.read(f"{top}/byteorder").decode(), "version": int(z.read(f"{top}/version"))}
    expected[name] = {
        "archive": top,
        "metadata": metadata,
        "tensors": [dict(name=n, **describe(t)) for n, t in flatten(loaded)],
    }


# ---- hand-built pickles and archives for hostile files ----

def pint(v: int) -> bytes:
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if 0 <= v < 65536:
        return b"M" + struct.pack("<H", v)
    if -(2**31) <= v < 2**31:
        return b"J" + struct.pack("<i", v)
    n = (v.bit_length() + 8) // 8
    return b"\x8a" + bytes([n]) + v.to_bytes(n, "little", signed=True)


def pstr(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def ptuple(values) -> bytes:
    return b"(" + b"".join(pint(v) for v in values) + b"t"


def tensor_pickle(items) -> bytes:
    """Protocol 2 state dict: items are (name, storage_class, key, numel, offset, size, stride)."""
    out = b"\x80\x02ccollections\nOrderedDict\n)R("
    for name, storage, key, numel, offset, size, stride in items:
        out += pstr(name) + b"ctorch._utils\n_rebuild_tensor_v2\n("
        out += b"(" + pstr("storage") + b"ctorch\n" + storage.encode() + b"\n" + pstr(key) + pstr("cpu") + pint(numel) + b"tQ"
        out += pint(offset) + ptuple(size) + ptuple(stride) + b"\x89ccollections\nOrderedDict\n)Rt"
        out += b"R"
    return out + b"u."


def write_zip(path: pathlib.Path, top: str, files: dict, method=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    g = torch.Generator().manual_seed(2024)
    expected = {}

    # Every dtype torch.save writes that maps to ours.
    all_dtypes = collections.OrderedDict()
    all_dtypes["f64"] = torch.randn(3, 2, generator=g, dtype=torch.float64)
    all_dtypes["f32"] = torch.randn(4, 5, generator=g)
    all_dtypes["f16"] = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1035e-05, 5.96e-08], dtype=torch.float16)
    all_dtypes["bf16"] = (torch.randn(2, 3, 4, generator=g) * 100).to(torch.bfloat16)
    all_dtypes["i64"] = torch.tensor([[-(2**40), 0, 2**40]], dtype=torch.int64)
    all_dtypes["i32"] = torch.arange(-6, 6, dtype=torch.int32).reshape(3, 4)
    all_dtypes["i16"] = torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16)
    all_dtypes["i8"] = torch.tensor([-128, -1, 0, 127], dtype=torch.int8)
    all_dtypes["u8"] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    all_dtypes["bool"] = torch.tensor([True, False, True])
    all_dtypes["u16"] = torch.tensor([0, 1, 65535], dtype=torch.uint16)
    all_dtypes["u32"] = torch.tensor([0, 7, 4294967295], dtype=torch.uint32)
    all_dtypes["u64"] = torch.tensor([0, 9, 2**40], dtype=torch.uint64)
    all_dtypes["f8_e4m3"] = torch.tensor([0.0, 1.0, -2.0, 448.0]).to(torch.float8_e4m3fn)
    all_dtypes["f8_e5m2"] = torch.tensor([0.0, 1.0, -2.0, 57344.0]).to(torch.float8_e5m2)
    save_good("all_dtypes.pt", all_dtypes, expected)

    # 0-d and empty tensors.
    save_good("scalars_empty.pt", collections.OrderedDict([
        ("scalar_f32", torch.tensor(3.5)),
        ("scalar_i64", torch.tensor(-7)),
        ("scalar_bool", torch.tensor(True)),
        ("empty", torch.zeros(0)),
        ("empty_3x0", torch.zeros(3, 0, dtype=torch.float16)),
    ]), expected)

    # Non-contiguous views saved as they are (one storage, several views).
    base = torch.randn(4, 6, generator=g)
    save_good("views.pt", collections.OrderedDict([
        ("base", base),
        ("transposed", base.t()),
        ("rows_1_3", base[1:3]),            # storage offset 6
        ("every_other_column", base[:, ::2]),  # strides (6, 2)
        ("column_slice", base[1:, 2:5]),      # offset and strides
        ("flat_tail", base.view(-1)[20:]),
    ]), expected)

    # Tied weights: two names, one storage, plus a view of a different shape.
    embed = torch.randn(5, 3, generator=g)
    save_good("tied.bin", collections.OrderedDict([
        ("model.embed_tokens.weight", embed),
        ("lm_head.weight", embed),
        ("lm_head_rows", embed[2:]),
    ]), expected)

    # A real module state dict (torch sets _metadata: a BUILD opcode), and Parameters.
    torch.manual_seed(7)
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2), torch.nn.Embedding(4, 2))
    save_good("module_state.pth", module.state_dict(), expected)
    save_good("parameters.pt", {"p": torch.nn.Parameter(torch.randn(2, 2, generator=g)),
                                "q": torch.nn.Parameter(torch.ones(3, dtype=torch.bfloat16), requires_grad=False)},
              expected)

    # A training checkpoint: wrappers, nested dicts, non-tensor values, a list of tensors.
    save_good("nested.pt", {
        "epoch": 7, "name": "run-1", "lr": 0.125, "done": False, "nothing": None, "big": 2**70,
        "state_dict": {"encoder": {"weight": torch.randn(2, 2, generator=g)}, "bias": torch.zeros(2)},
        "model": {"head.weight": torch.ones(1, 2, dtype=torch.float64)},
        "history": [torch.tensor([1.0, 2.0]), 3, "x"],
        "blob": b"\x00\x01bytes",
    }, expected)

    # Top folder names: an odd file name, and "archive" (saving to a buffer, as old hub files).
    save_good("odd name.v2.pth", {"w": torch.arange(4, dtype=torch.float32)}, expected)
    save_good("archive_top.bin", {"w": torch.arange(3, dtype=torch.int64)}, expected, via_bytes=True)

    # Protocol 4 pickles: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL.
    save_good("protocol4.pt", {"a": torch.randn(2, 3, generator=g), "b": torch.tensor([1, 2], dtype=torch.int16)},
              expected, pickle_protocol=4)

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")

    # ---- refused files ----
    # (The legacy format names storages by memory address, so this one file differs between runs.)
    torch.save({"w": torch.ones(2)}, OUT / "refused_legacy.pt", _use_new_zipfile_serialization=False)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(2))

        def forward(self, x):
            return x * self.w
    torch.jit.save(torch.jit.script(Tiny()), OUT / "refused_torchscript.pt")

    good = (OUT / "all_dtypes.pt").read_bytes()
    (OUT / "hostile_truncated.pt").write_bytes(good[: len(good) // 2])
    (OUT / "hostile_empty.pt").write_bytes(b"")
    rng = random.Random(99)
    (OUT / "hostile_garbage.pt").write_bytes(bytes(rng.randrange(256) for _ in range(3000)))

    # Code execution by pickle, written opcode by opcode and never loaded.
    system_pickle = b"\x80\x02cposix\nsystem\n" + pstr("echo pwned") + b"\x85R."
    write_zip(OUT / "hostile_os_system.pt", "hostile_os_system", {"data.pkl": system_pickle, "version": b"3\n"})
    eval_pickle = b"\x80\x02cbuiltins\neval\n" + pstr("__import__('os').system('echo pwned')") + b"\x85R."
    write_zip(OUT / "hostile_eval.pt", "hostile_eval", {"data.pkl": eval_pickle, "version": b"3\n"})
    # The same through STACK_GLOBAL (protocol 4), hidden inside a value of a normal state dict.
    popen = (b"\x80\x04}(" + pstr("w") + b"\x8c\nsubprocess\x8c\x05Popen\x93" + pstr("id") + b"\x85Ru.")
    write_zip(OUT / "hostile_subprocess.pt", "archive", {"data.pkl": popen})
    # A global reached through a nested tensor rebuild: torch.load would call it.
    getattr_pickle = b"\x80\x02cbuiltins\ngetattr\n)R."
    write_zip(OUT / "hostile_getattr.pt", "archive", {"data.pkl": getattr_pickle})

    four_floats = struct.pack("<4f", 1, 2, 3, 4)
    def state_file(name, items, data, **extra):
        files = {"data.pkl": tensor_pickle(items), "byteorder": b"little", "version": b"3\n"}
        files.update({f"data/{k}": v for k, v in data.items()})
        files.update(extra)
        write_zip(OUT / name, "archive", files)

    # Sanity: the hand-built pickle itself is fine (torch loads this one).
    state_file("handmade_ok.pt", [("w", "FloatStorage", "0", 4, 0, (2, 2), (2, 1))], {"0": four_floats})
    assert torch.load(OUT / "handmade_ok.pt", weights_only=True)["w"].tolist() == [[1, 2], [3, 4]]
    expected_handmade = {"archive": "archive", "metadata": {"byteorder": "little", "version": 3},
                         "tensors": [{"name": "w", "dtype": "F32", "shape": [2, 2], "values": [1.0, 2.0, 3.0, 4.0],
                                      "hex": four_floats.hex()}]}
    expected["handmade_ok.pt"] = expected_handmade
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")

    state_file("hostile_lying_numel.pt", [("w", "FloatStorage", "0", 1000, 0, (4,), (1,))], {"0": four_floats})
    state_file("hostile_offset_past_end.pt", [("w", "FloatStorage", "0", 4, 100, (2,), (1,))], {"0": four_floats})
    state_file("hostile_view_past_end.pt", [("w", "FloatStorage", "0", 4, 1, (4,), (1,))], {"0": four_floats})
    state_file("hostile_shape_overflow.pt", [("w", "FloatStorage", "0", 4, 0, (2**32, 2**32), (1, 1))], {"0": four_floats})
    state_file("hostile_missing_storage.pt", [("w", "FloatStorage", "7", 4, 0, (4,), (1,))], {"0": four_floats})
    state_file("hostile_big_endian.pt", [("w", "FloatStorage", "0", 4, 0, (4,), (1,))], {"0": four_floats},
               byteorder=b"big")
    # Unknown opcode: protocol 5's BYTEARRAY8 where torch never puts one.
    write_zip(OUT / "hostile_unknown_opcode.pt", "archive", {"data.pkl": b"\x80\x02}\x96" + b"\x00" * 8 + b"."})
    # Exponential sharing: each tuple holds the previous one twice (2^40 leaves if walked naively).
    laughs = b"\x80\x02" + pstr("x") + b"q\x00"
    for level in range(40):
        laughs += b"h" + bytes([level]) + b"h" + bytes([level]) + b"\x86q" + bytes([level + 1])
    laughs += b"0}" + pstr("k") + b"h" + bytes([40]) + b"s."
    write_zip(OUT / "hostile_laughs.pt", "archive", {"data.pkl": laughs})

    # A deflate-compressed copy of a good file (as re-zipping tools write it): read through zlib.
    with zipfile.ZipFile(OUT / "scalars_empty.pt") as src, zipfile.ZipFile(OUT / "deflated_copy.pt", "w") as dst:
        for info in src.infolist():
            copy = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            copy.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(copy, src.read(info.filename))
    # The same with one byte of a compressed tensor entry damaged: zlib or the CRC-32 must catch it.
    data = bytearray((OUT / "deflated_copy.pt").read_bytes())
    with zipfile.ZipFile(OUT / "deflated_copy.pt") as z:
        info = next(i for i in z.infolist() if "/data/" in i.filename and i.compress_size > 4)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    data[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0x55
    (OUT / "hostile_deflate_corrupt.pt").write_bytes(bytes(data))

    # The end record's central-directory offset points past the end of the file.
    data = bytearray((OUT / "handmade_ok.pt").read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, eocd + 16, len(data) + 1000)
    (OUT / "hostile_directory_past_end.pt").write_bytes(bytes(data))
    # A central entry's local header offset lies inside the central directory.
    data = bytearray((OUT / "handmade_ok.pt").read_bytes())
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 42, 0x7FFFFFF0)
    (OUT / "hostile_local_offset.pt").write_bytes(bytes(data))

    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes")


if __name__ == "__main__":
    main()
