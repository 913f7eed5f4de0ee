#!/usr/bin/env python3
"""GGUF fixtures, written by the `gguf` package (gguf-py's GGUFWriter and gguf.quants).

Good files get an entry in expected.json: version, alignment, data offset, every metadata pair
with its declared GGUF type and value (from the writer side, cross-checked against
gguf.GGUFReader), and every tensor as gguf.GGUFReader reports it (type name and id, dimensions,
offset, byte count, raw bytes as hex, and float values for F32/F16/BF16).

Shape convention: gguf.GGUFReader's `ReaderTensor.shape` is GGUF's stored order, innermost first
(ggml `ne`: ne[0] is the row length). expected.json keeps that as "dims" and writes "shape" as its
reverse, the row-major order numpy shows for the data and MobileVLMKit reports.

Hostile files (hostile/) are byte-level edits of a small GGUFWriter file at offsets located with
gguf.GGUFReader; each has a reason in expected.json. Value encoding in expected.json: integers as
decimal strings (64-bit values survive JSON), floats as Python repr strings ("nan", "-0.0").
"""
import hashlib
import json
import pathlib
import shutil
import struct
import warnings

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V
from gguf.quants import quantize

OUT = pathlib.Path(__file__).resolve().parent / "gguf"
HOSTILE = OUT / "hostile"


# ---------------------------------------------------------------------------------------------
# Writing

def write(path: pathlib.Path, kvs, tensors, alignment=None, endianess=gguf.GGUFEndian.LITTLE):
    """kvs: [(key, GGUFValueType, value, sub_type)]; tensors: [(name, array, raw_dtype)]."""
    w = gguf.GGUFWriter(str(path), "mvlmtest", endianess=endianess)
    if alignment is not None:
        w.add_custom_alignment(alignment)
    for key, vtype, value, sub in kvs:
        w.add_key_value(key, value, vtype, sub_type=sub)
    for name, array, raw in tensors:
        w.add_tensor(name, array, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def f32(x):
    return float(np.float32(x))


def encode(vtype: V, value, sub=None):
    """A typed value as expected.json stores it."""
    if vtype == V.ARRAY:
        if sub is None:
            sub = V.get_type(value[0])
        return {"elementType": sub.name, "values": [encode(sub, v) for v in value]}
    if vtype == V.STRING:
        return value
    if vtype == V.BOOL:
        return bool(value)
    if vtype == V.FLOAT32:
        return repr(f32(value))
    if vtype == V.FLOAT64:
        return repr(float(value))
    return str(int(value))


def flatten(vtype: V, value, sub=None):
    """The value as gguf.GGUFReader's ReaderField.contents() returns it (nested arrays flat)."""
    if vtype != V.ARRAY:
        return f32(value) if vtype == V.FLOAT32 else value
    if sub is None:
        sub = V.get_type(value[0])
    out = []
    for v in value:
        item = flatten(sub, v)
        out.extend(item if sub == V.ARRAY else [item])
    return out


def same(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


def describe(path: pathlib.Path, kvs, arch="mvlmtest", alignment=None, repaired=()):
    """Expected values for a good file: metadata from the writer side, tensors from GGUFReader."""
    r = gguf.GGUFReader(str(path))
    written = [("general.architecture", V.STRING, arch, None)]
    if alignment is not None:
        written.append(("general.alignment", V.UINT32, alignment, None))
    written += list(kvs)
    fields = [f for name, f in r.fields.items() if not name.startswith("GGUF.")]
    assert [f.name for f in fields] == [k for k, *_ in written], "metadata order differs"
    metadata = []
    for field, (key, vtype, value, sub) in zip(fields, written):
        assert field.types[0] == vtype, (key, field.types, vtype)
        if key not in repaired:
            assert same(field.contents(), flatten(vtype, value, sub)), (key, field.contents())
        metadata.append({"key": key, "type": vtype.name, "value": encode(vtype, value, sub)})
    tensors = []
    for t in r.tensors:
        raw = np.ascontiguousarray(t.data).tobytes()
        assert len(raw) == t.n_bytes
        dims = [int(d) for d in t.shape]
        entry = {
            "name": t.name,
            "type": t.tensor_type.name,
            "ggml_type": int(t.tensor_type),
            "dims": dims,
            "shape": list(reversed(dims)),
            "offset": int(t.data_offset - r.data_offset),
            "n_bytes": int(t.n_bytes),
            "n_elements": int(t.n_elements),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "hex": raw.hex(),
        }
        if t.tensor_type in (Q.F32, Q.F16, Q.BF16):
            values = gguf.quants.dequantize(np.frombuffer(raw, dtype=np.uint8), t.tensor_type)
            entry["values"] = [repr(float(v)) for v in np.asarray(values, dtype=np.float32).ravel()]
        tensors.append(entry)
    return {
        "version": int(r.fields["GGUF.version"].parts[0][0]),
        "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "file_size": path.stat().st_size,
        "metadata": metadata,
        "tensors": tensors,
        "repaired_keys": list(repaired),
    }


# ---------------------------------------------------------------------------------------------
# Good files

def every_value_kvs():
    i = np.iinfo
    return [
        ("test.uint8", V.UINT8, 255, None),
        ("test.int8", V.INT8, -128, None),
        ("test.uint16", V.UINT16, 65535, None),
        ("test.int16", V.INT16, -32768, None),
        ("test.uint32", V.UINT32, 4294967295, None),
        ("test.int32", V.INT32, -2147483648, None),
        ("test.float32", V.FLOAT32, 3.14159, None),
        ("test.float32_nan", V.FLOAT32, float("nan"), None),
        ("test.float32_neg_inf", V.FLOAT32, float("-inf"), None),
        ("test.float32_neg_zero", V.FLOAT32, -0.0, None),
        ("test.bool_true", V.BOOL, True, None),
        ("test.bool_false", V.BOOL, False, None),
        ("test.string", V.STRING, "héllo wörld ✓ 🦙", None),
        ("test.string_empty", V.STRING, "", None),
        ("test.uint64", V.UINT64, int(i(np.uint64).max), None),
        ("test.int64", V.INT64, int(i(np.int64).min), None),
        ("test.float64", V.FLOAT64, 2.718281828459045, None),
        ("test.array.uint8", V.ARRAY, [0, 1, 255], V.UINT8),
        ("test.array.int8", V.ARRAY, [-128, 0, 127], V.INT8),
        ("test.array.uint16", V.ARRAY, [0, 65535], V.UINT16),
        ("test.array.int16", V.ARRAY, [-32768, 32767], V.INT16),
        ("test.array.uint32", V.ARRAY, [1, 2, 3, 4294967295], V.UINT32),
        ("test.array.int32", V.ARRAY, [-1, 0, 2147483647], V.INT32),
        ("test.array.float32", V.ARRAY, [0.5, -1.25, 1e-8, float("inf")], V.FLOAT32),
        ("test.array.bool", V.ARRAY, [True, False, True], V.BOOL),
        ("test.array.string", V.ARRAY, ["<s>", "</s>", "▁the", "", "日本"], V.STRING),
        ("test.array.uint64", V.ARRAY, [0, 2**64 - 1], V.UINT64),
        ("test.array.int64", V.ARRAY, [-(2**63), 2**63 - 1], V.INT64),
        ("test.array.float64", V.ARRAY, [1e300, -2.5], V.FLOAT64),
        ("test.array.nested_int", V.ARRAY, [[1, 2, 3], [4], [5, 6]], V.ARRAY),
        ("test.array.nested_string", V.ARRAY, [["a", "bc"], ["déf"]], V.ARRAY),
        ("test.array.nested_deep", V.ARRAY, [[[1.5, 2.5]], [[3.5]]], V.ARRAY),
        ("tokenizer.ggml.tokens", V.ARRAY, ["<unk>", "a", "b", "ab"], V.STRING),
        ("tokenizer.ggml.scores", V.ARRAY, [0.0, -1.0, -2.0, -3.0], V.FLOAT32),
    ]


def every_type_tensors(rng):
    x = lambda *s: rng.standard_normal(s).astype(np.float32)
    f16 = np.array([[0.0, -0.0, 1.0, -2.5, 65504.0, 6.104e-05, 5.96e-08, np.inf],
                    [-np.inf, 0.1, 0.2, 0.3, -0.4, 1000.0, -1e-3, 7.0],
                    *x(2, 8).tolist()], dtype=np.float16)
    q4k = rng.integers(0, 256, size=(2, 144), dtype=np.uint8)  # two raw Q4_K blocks
    q4k[:, 0:4] = np.frombuffer(np.array([0.01, 0.002], dtype=np.float16).tobytes(), dtype=np.uint8)
    return [
        ("f32", x(3, 5), None),  # 60 bytes: the next tensor starts after padding
        ("f16", f16, None),
        ("bf16", quantize(x(2, 16) * 100, Q.BF16), Q.BF16),
        ("i8", rng.integers(-128, 128, size=(2, 3, 4), dtype=np.int8), None),
        ("i16", np.array([-32768, -1, 0, 1, 2, 3, 32767], dtype=np.int16), None),
        ("i32", np.arange(-8, 8, dtype=np.int32).reshape(2, 2, 2, 2), None),
        ("i64", np.array([-(2**62), 0, 2**62 + 7], dtype=np.int64), None),
        ("f64", rng.standard_normal((2, 3)), None),
        ("q8_0", quantize(x(4, 64), Q.Q8_0), Q.Q8_0),
        ("q4_0", quantize(x(2, 32), Q.Q4_0), Q.Q4_0),
        ("q4_1", quantize(x(3, 64), Q.Q4_1), Q.Q4_1),
        ("q5_0", quantize(x(1, 2, 32), Q.Q5_0), Q.Q5_0),
        ("q4_k", q4k, Q.Q4_K),
        ("rank5", rng.integers(-5, 5, size=(1, 2, 1, 2, 3), dtype=np.int8), None),
        ("empty", np.zeros((0, 4), dtype=np.float32), None),
        ("scalar", np.array(42.5, dtype=np.float32), None),
        ("token_embd.weight", x(6, 4), None),
    ]


def empty_array_file(path: pathlib.Path):
    """GGUFWriter refuses empty arrays (the spec allows them): build the bytes by hand."""
    def s(text):
        b = text.encode()
        return struct.pack("<Q", len(b)) + b
    kv = s("general.architecture") + struct.pack("<I", V.STRING) + s("mvlmtest")
    kv += s("test.empty_u32") + struct.pack("<IIQ", V.ARRAY, V.UINT32, 0)
    kv += s("test.nested_empty") + struct.pack("<IIQ", V.ARRAY, V.ARRAY, 2)
    kv += struct.pack("<IQ", V.STRING, 0) + struct.pack("<IQ", V.INT32, 1) + struct.pack("<i", -7)
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 3) + kv
    data += b"\0" * (-len(data) % 32)
    path.write_bytes(data)
    r = gguf.GGUFReader(str(path))  # gguf-py must accept it
    assert r.fields["test.empty_u32"].contents() == []
    return {
        "version": 3, "alignment": 32, "data_offset": len(data), "file_size": len(data),
        "metadata": [
            {"key": "general.architecture", "type": "STRING", "value": "mvlmtest"},
            {"key": "test.empty_u32", "type": "ARRAY", "value": {"elementType": "UINT32", "values": []}},
            {"key": "test.nested_empty", "type": "ARRAY", "value": {"elementType": "ARRAY", "values": [
                {"elementType": "STRING", "values": []},
                {"elementType": "INT32", "values": ["-7"]}]}},
        ],
        "tensors": [],
        "repaired_keys": [],
    }


# ---------------------------------------------------------------------------------------------
# Hostile files

def locate(path: pathlib.Path):
    """Byte offsets of the fields of a file, found with gguf.GGUFReader."""
    r = gguf.GGUFReader(str(path))
    kv = {}
    for name, f in r.fields.items():
        if not name.startswith("GGUF."):
            key_len = len(name.encode())
            kv[name] = {"key": f.offset + 8, "type": f.offset + 8 + key_len, "value": f.offset + 12 + key_len}
    ti = {}
    for t in r.tensors:
        o = t.field.offset
        ndims = o + 8 + len(t.name.encode())
        dims = ndims + 4
        typ = dims + 8 * len(t.shape)
        ti[t.name] = {"name": o + 8, "ndims": ndims, "dims": dims, "type": typ, "offset": typ + 4,
                      "data": int(t.data_offset), "n_bytes": int(t.n_bytes),
                      "rel_offset": int(t.data_offset - r.data_offset)}
    return kv, ti, int(r.data_offset)


def patch(data: bytes, at: int, fmt: str, *values) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, at, *values)
    return bytes(b)


def hostile_files(rng):
    base_path = HOSTILE / "_base.gguf"
    kvs = [
        ("general.name", V.STRING, "hostile base", None),
        ("test.key_a", V.UINT32, 7, None),
        ("test.key_b", V.BOOL, True, None),
        ("test.list", V.ARRAY, [1, 2, 3, 4], V.UINT32),
        ("test.words", V.ARRAY, ["x", "yz"], V.STRING),
    ]
    tensors = [
        ("a", rng.standard_normal((2, 8)).astype(np.float32), None),
        ("b", rng.standard_normal((2, 8)).astype(np.float32), None),
        ("q", quantize(rng.standard_normal((2, 64)).astype(np.float32), Q.Q8_0), Q.Q8_0),
    ]
    write(base_path, kvs, tensors, alignment=32)
    base = base_path.read_bytes()
    kv, ti, data_offset = locate(base_path)
    base_path.unlink()

    cases = {}

    def add(name, data, reason):
        (HOSTILE / name).write_bytes(data)
        try:
            warnings.simplefilter("ignore", RuntimeWarning)  # gguf-py's own offset overflow
            r = gguf.GGUFReader(str(HOSTILE / name))
            for t in r.tensors:
                np.asarray(t.data).tobytes()
            gguf_py = "accepted"
        except Exception as e:  # noqa: BLE001 - any failure is a refusal
            gguf_py = f"refused: {type(e).__name__}"
        cases[name] = {"reason": reason, "gguf_py": gguf_py}

    add("empty.gguf", b"", "empty file")
    add("bad_magic.gguf", b"GGUX" + base[4:], "magic is not GGUF")
    add("short_magic.gguf", b"GG", "file shorter than the magic")
    add("v1_header.gguf", b"GGUF" + struct.pack("<III", 1, 0, 0) + b"\0" * 16,
        "GGUF version 1 (32-bit counts)")
    add("version_4.gguf", patch(base, 4, "<I", 4), "GGUF version 4 does not exist (yet)")
    add("truncated_header.gguf", base[:20], "file ends inside the header")
    add("truncated_kv.gguf", base[:kv["general.name"]["value"] + 10], "file ends inside a metadata string")
    add("truncated_tensor_info.gguf", base[:ti["b"]["dims"] + 4], "file ends inside the tensor infos")
    last = ti["q"]
    add("truncated_data.gguf", base[:last["data"] + last["n_bytes"] // 2], "file ends inside tensor data")
    add("string_too_long.gguf", patch(base, kv["general.name"]["value"], "<Q", 1 << 40),
        "string length larger than the file")
    add("array_count_huge.gguf", patch(base, kv["test.list"]["value"] + 4, "<Q", 1 << 62),
        "array count 2^62")
    add("array_bad_element_type.gguf", patch(base, kv["test.list"]["value"], "<I", 42),
        "array element type 42")
    add("tensor_count_huge.gguf", patch(base, 8, "<Q", 1 << 60), "tensor count 2^60")
    add("kv_count_huge.gguf", patch(base, 16, "<Q", (1 << 64) - 1), "key-value count 2^64-1")
    add("bad_value_type.gguf", patch(base, kv["test.key_a"]["type"], "<I", 13), "value type 13")
    add("bad_bool.gguf", patch(base, kv["test.key_b"]["value"], "<B", 2), "BOOL value 2")
    add("duplicate_key.gguf", patch(base, kv["test.key_b"]["key"], "10s", b"test.key_a"),
        "key test.key_a twice")
    add("duplicate_tensor.gguf", patch(base, ti["b"]["name"], "1s", b"a"), "tensor name a twice")
    add("invalid_utf8_name.gguf", patch(base, ti["b"]["name"], "B", 0xFF), "tensor name not UTF-8")
    add("offset_past_end.gguf", patch(base, ti["b"]["offset"], "<Q", 1 << 40), "tensor offset past the end")
    add("offset_huge.gguf", patch(base, ti["b"]["offset"], "<Q", (1 << 64) - 32),
        "tensor offset 2^64-32 (overflows when added to the data offset)")
    add("overlapping.gguf", patch(base, ti["b"]["offset"], "<Q", ti["a"]["rel_offset"]),
        "tensors a and b share bytes")
    add("misaligned.gguf", patch(base, ti["b"]["offset"], "<Q", ti["b"]["rel_offset"] + 4),
        "tensor offset not a multiple of the alignment")
    add("ndims_100.gguf", patch(base, ti["a"]["ndims"], "<I", 100), "n_dims = 100")
    add("dims_overflow.gguf", patch(base, ti["a"]["dims"], "<QQ", 1 << 40, 1 << 40),
        "dims whose product overflows")
    add("dim_too_large.gguf", patch(base, ti["a"]["dims"], "<Q", 1 << 63), "dimension 2^63")
    add("unknown_type.gguf", patch(base, ti["b"]["type"], "<I", 99), "ggml type 99")
    add("removed_type.gguf", patch(base, ti["b"]["type"], "<I", 4), "ggml type 4 (Q4_2, removed)")
    add("block_row_length.gguf", patch(base, ti["q"]["dims"], "<Q", 48),
        "Q8_0 row length 48 not a multiple of 32")
    add("tensor_too_big.gguf", patch(base, ti["q"]["dims"] + 8, "<Q", 1000),
        "tensor data runs past the end of the file")
    add("alignment_zero.gguf", patch(base, kv["general.alignment"]["value"], "<I", 0), "alignment 0")
    add("alignment_three.gguf", patch(base, kv["general.alignment"]["value"], "<I", 3), "alignment 3")
    add("alignment_type.gguf", patch(base, kv["general.alignment"]["type"], "<I", V.INT32),
        "alignment stored as INT32")

    # A big-endian file from the real writer (gguf-py supports writing them).
    write(HOSTILE / "big_endian.gguf", kvs[:2], tensors[:1], endianess=gguf.GGUFEndian.BIG)
    cases["big_endian.gguf"] = {"reason": "big-endian GGUF v3", "gguf_py": "written by GGUFWriter"}
    # Arrays nested 20 deep (beyond the reader's bound of 16), from the real writer.
    deep = 1
    for _ in range(20):
        deep = [deep]
    write(HOSTILE / "deep_nesting.gguf", [("test.deep", V.ARRAY, deep, None)], [])
    cases["deep_nesting.gguf"] = {"reason": "arrays nested 20 deep", "gguf_py": "written by GGUFWriter"}
    return cases


# ---------------------------------------------------------------------------------------------

def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    HOSTILE.mkdir(parents=True)
    rng = np.random.default_rng(20251125)
    expected = {"files": {}, "hostile": {}}

    kvs = every_value_kvs()
    path = OUT / "all_types_v3.gguf"
    write(path, kvs, every_type_tensors(rng))
    expected["files"]["all_types_v3.gguf"] = describe(path, kvs)

    # v2 and v3 share the layout (v3 only added big-endian files), so patching the version
    # field gives a valid v2 file.
    v2 = OUT / "all_types_v2.gguf"
    v2.write_bytes(patch(path.read_bytes(), 4, "<I", 2))
    expected["files"]["all_types_v2.gguf"] = describe(v2, kvs)
    assert expected["files"]["all_types_v2.gguf"]["version"] == 2

    kvs64 = [("general.name", V.STRING, "alignment 64", None)]
    tensors64 = [
        ("w1", rng.standard_normal((3, 3)).astype(np.float32), None),  # 36 bytes, padded to 64
        ("w2", quantize(rng.standard_normal((1, 32)).astype(np.float32), Q.Q4_1), Q.Q4_1),
        ("w3", rng.standard_normal((5,)).astype(np.float16), None),
    ]
    path = OUT / "align64.gguf"
    write(path, kvs64, tensors64, alignment=64)
    expected["files"]["align64.gguf"] = describe(path, kvs64, alignment=64)

    path = OUT / "empty_arrays.gguf"
    expected["files"]["empty_arrays.gguf"] = empty_array_file(path)

    # A metadata string that is not valid UTF-8: read with U+FFFD replacements and reported.
    kvs_utf8 = [("general.name", V.STRING, b"bad \xff\xfe name", None)]
    path = OUT / "repaired_utf8.gguf"
    write(path, kvs_utf8, [("t", np.ones((2,), dtype=np.float32), None)])
    info = describe(path, kvs_utf8, repaired=("general.name",))
    info["metadata"][1]["value"] = b"bad \xff\xfe name".decode("utf-8", errors="replace")
    expected["files"]["repaired_utf8.gguf"] = info

    expected["hostile"] = hostile_files(rng)
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {sum(1 for p in OUT.rglob('*.gguf'))} GGUF files, {total} bytes in total")


if __name__ == "__main__":
    main()
