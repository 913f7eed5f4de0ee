#!/usr/bin/env python3
"""Hostile files for the reliability tests (issue 18, docs/reliability.md). Standard library only.

Writes Tests/Fixtures/hostile/:
- libhdf5_crash_*.h5: committed HDF5 fixtures with ONE byte changed, at offsets where libhdf5
  1.10 (Debian 12) dies with a signal, or never returns, while listing the file (found by mutating every byte and
  running `mvlm __hdf5-worker catalog` on each, see `search_hdf5_crashes`). The reader must
  report a clean error naming the file instead of crashing.
- stride0_huge.pt: a 655-byte-class PyTorch zip whose only tensor is a stride-0 view of shape
  [1048576, 1048576] over a 4-float storage (4 TiB once materialized).
- deflate_bomb.pt: a PyTorch zip whose storage entry is deflated: 192 MiB of zeros in ~190 KiB.
- deflate_bomb_small_ok.pt: the same construction at 1 MiB (within the ratio limit; must load).
Also writes the fuzzers' generated seeds, Tests/Fixtures/fuzz/ (see fuzz/seeds.txt):
- preprocess_*.bin: one geometry byte + a committed PNG/JPEG fixture (the image-preprocessing
  target's input format);
- seed.mvlm (only with --mvlm-seed MVLM): safetensors/small.safetensors converted to f16 by the
  given mvlm binary (930 bytes).
Deterministic: a rerun gives identical bytes.

Run: python3 Tests/Fixtures/gen_hostile.py            (or generate.py hostile)
     python3 Tests/Fixtures/gen_hostile.py --mvlm-seed .build/debug/mvlm
     python3 Tests/Fixtures/gen_hostile.py --search MVLM FILE.h5   (look for new crash offsets)
"""
import pathlib
import base64
import struct
import subprocess
import sys
import zipfile
import zlib

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "hostile"

# (source fixture, offset, new byte value): found with search_hdf5_crashes against libhdf5 1.10.8.
HDF5_CRASHES = [
    ("tf_model.h5", 2073, 0xFF),  # global heap (vlen string attribute): SIGSEGV in libhdf5
    ("tf_model.h5", 2072, 0xF5),  # global heap: libhdf5 loops forever (the worker times out)
]


def pint(v: int) -> bytes:
    """A pickle integer (protocol 2 opcodes)."""
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


def state_dict_pickle(name, key, numel, offset, size, stride) -> bytes:
    """`{name: torch._utils._rebuild_tensor_v2(FloatStorage key, offset, size, stride)}` as
    torch.save writes it (an OrderedDict, persistent id tuple for the storage)."""
    out = b"\x80\x02ccollections\nOrderedDict\n)R("
    out += pstr(name) + b"ctorch._utils\n_rebuild_tensor_v2\n("
    out += b"(" + pstr("storage") + b"ctorch\nFloatStorage\n" + pstr(key) + pstr("cpu") + pint(numel) + b"tQ"
    out += pint(offset) + ptuple(size) + ptuple(stride) + b"\x89ccollections\nOrderedDict\n)Rt"
    out += b"R"
    return out + b"u."


def write_zip(path: pathlib.Path, files: dict, deflated=()) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"archive/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in deflated else zipfile.ZIP_STORED
            z.writestr(info, data, compresslevel=9 if name in deflated else None)


def torch_file(path, numel, size, stride, data, deflated=False):
    files = {
        "data.pkl": state_dict_pickle("w", "0", numel, 0, size, stride),
        "byteorder": b"little",
        "data/0": data,
        "version": b"3\n",
    }
    write_zip(path, files, deflated=("data/0",) if deflated else ())


def search_hdf5_crashes(mvlm: str, source: pathlib.Path, limit: int = 5):
    """Prints (offset, value, returncode) for single-byte changes that kill the worker."""
    data = bytearray(source.read_bytes())
    candidate = OUT / "search-candidate.h5"
    found = 0
    for offset in range(len(data)):
        for value in (data[offset] ^ 0xFF, data[offset] ^ 0x01, 0):
            if value == data[offset]:
                continue
            mutated = bytearray(data)
            mutated[offset] = value
            candidate.write_bytes(mutated)
            try:
                code = subprocess.run([mvlm, "__hdf5-worker", "catalog", str(candidate)],
                                      capture_output=True, timeout=20).returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            if code != 0:
                print(source.name, offset, value, code, flush=True)
                found += 1
                if found >= limit:
                    candidate.unlink()
                    return
    candidate.unlink()


GGUF_ZERO_BLOCK_FINDING = (
    "R0dVRgMAAAABAAAAAAAAAAIAAAAAAAAAFAAAAAAAAABnZW5lcmFsLmFyY2hpdGVjdHVyZQgAAAAIAAAAAAAAAG12bG10ZXN0EQAAAAAAAABn"
    "ZW5lcmFsLmFsaWdubWVudAQAAABAAAAADAAAAAAAAABnZW5lcmFsLm5dWW0CAAAAAAAAAAAAAAAAAAAAAAAAABcAAAAAAAAAAAAAAAAAAACB"
    "gYGBgQAAbXZsbXRlc3QKAAAAAAAAAHRlc3QudWk4AAAAAAAAADRxCQAAAAAAAQAAAAAAAAA="
)


def gguf_zero_block() -> bytes:
    """GGUF v3, no metadata, one Q4_0 tensor 'empty' with dimensions (0, 0) at offset 0."""
    name = b"empty"
    info = struct.pack("<Q", len(name)) + name + struct.pack("<I", 2) + struct.pack("<QQ", 0, 0) + struct.pack("<IQ", 2, 0)
    data = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + info
    return data + bytes(-len(data) % 32)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    four_floats = struct.pack("<4f", 1, 2, 3, 4)
    torch_file(OUT / "stride0_huge.pt", 4, (1048576, 1048576), (0, 0), four_floats)
    bomb = bytes(192 << 20)
    torch_file(OUT / "deflate_bomb.pt", len(bomb) // 4, (len(bomb) // 4,), (1,), bomb, deflated=True)
    small = bytes(1 << 20)
    torch_file(OUT / "deflate_bomb_small_ok.pt", len(small) // 4, (len(small) // 4,), (1,), small, deflated=True)
    # A GGUF block tensor with no elements (shape [0, 0]): found by the gguf fuzz target on
    # 2026-12-08 (Tensor.contiguous() trapped on it); the finding as the fuzzer wrote it, and the
    # same case built from scratch.
    (OUT / "gguf_zero_block_fuzz_finding.gguf").write_bytes(base64.b64decode(GGUF_ZERO_BLOCK_FINDING))
    (OUT / "gguf_zero_block.gguf").write_bytes(gguf_zero_block())
    fuzz = HERE / "fuzz"
    fuzz.mkdir(exist_ok=True)
    (fuzz / "preprocess_palette.bin").write_bytes(b"\x98" + (HERE / "image/palette4_trns_35x22.png").read_bytes())
    (fuzz / "preprocess_gray_jpeg.bin").write_bytes(b"\x4c" + (HERE / "image/gray_97x61.jpg").read_bytes())
    for source, offset, value in HDF5_CRASHES:
        data = bytearray((HERE / "hdf5" / source).read_bytes())
        data[offset] = value
        stem = source.split(".")[0]
        (OUT / f"libhdf5_crash_{stem}_{offset}.h5").write_bytes(data)


def mvlm_seed(mvlm: str) -> None:
    out = HERE / "fuzz" / "seed.mvlm"
    subprocess.run([mvlm, "convert", str(HERE / "safetensors/small.safetensors"), "-o", str(out), "--quant", "f16"],
                   check=True, capture_output=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--mvlm-seed":
        main()
        mvlm_seed(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "--search":
        search_hdf5_crashes(sys.argv[2], pathlib.Path(sys.argv[3]))
    else:
        main()
