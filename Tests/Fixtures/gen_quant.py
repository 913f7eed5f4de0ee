"""Generates the quantization fixtures in Tests/Fixtures/quant (deterministic, seed 20260).

Regenerate with:

    MVLM_QTOOL=/path/to/qtool /work/venv/bin/python Tests/Fixtures/gen_quant.py

`qtool` is a small C program (not part of this repository) linked against llama.cpp's ggml-base
(CPU only, built with cmake, Release, no -march flags): `qtool quant TYPE N in.f32 out.bin deq.f32`
runs ggml's `quantize_row_<type>_ref` on every row and `dequantize_row_<type>` on the result;
`qtool dequant TYPE N in.bin out.f32` runs `dequantize_row_<type>`. Build recipe: download the
llama-cpp-python sdist (`pip download --no-deps --no-binary :all: llama-cpp-python`), configure
`vendor/llama.cpp/ggml` with `-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF`, `make ggml-base`, and
compile the tool against `libggml-base.a`. Without MVLM_QTOOL the llama.cpp-made files are left as
they are (only the gguf-python ones are rewritten).

Outputs (all little-endian, rows of COLUMNS floats):
- rows.f32: the float rows (see CATEGORIES in manifest.json).
- q8_0.bin, q4_0.bin, q4_1.bin: gguf.quants.quantize(rows, Q8_0/Q4_0/Q4_1) (gguf-python reference).
- <type>.deq.f32 for those: gguf.quants.dequantize of the bytes.
- q4_k.bin, q6_k.bin (+ .deq.f32): llama.cpp quantize_row_q4_K_ref / q6_K_ref and dequantize_row_*.
- q2_k.bin, q3_k.bin, q5_k.bin, q5_0.bin, q5_1.bin: llama.cpp's reference quantizer on the same rows;
  their .deq.f32 come from gguf-python's dequantize (checked equal to llama.cpp's).
- importance.f32 (COLUMNS floats) and q6_k_imatrix.bin, q4_k_imatrix.bin: ggml_quantize_chunk with
  that importance as `imatrix` (`qtool chunkw`), i.e. llama.cpp's imatrix quantizers.
- random_<type>.bin / .deq.f32: random valid blocks (finite f16 scales) and gguf-python's
  dequantization, for every type the toolkit dequantizes.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "quant")
COLUMNS = 256
SEED = 20260


def make_rows():
    rng = np.random.default_rng(SEED)
    rows, names = [], []

    def add(name, values):
        values = np.asarray(values, dtype=np.float32)
        assert values.shape == (COLUMNS,) and np.all(np.isfinite(values))
        rows.append(values)
        names.append(name)

    for i in range(4):
        add(f"normal_{i}", rng.normal(0, 0.02 * (i + 1), COLUMNS))
    add("normal_unit", rng.normal(0, 1, COLUMNS))
    add("uniform", rng.uniform(-1, 1, COLUMNS))
    add("uniform_positive", rng.uniform(0.5, 2, COLUMNS))
    add("uniform_negative", rng.uniform(-3, -0.25, COLUMNS))
    outliers = rng.normal(0, 0.05, COLUMNS)
    outliers[rng.choice(COLUMNS, 6, replace=False)] = [8.0, -11.0, 5.5, -7.25, 13.0, 9.0]
    add("outliers", outliers)
    add("all_equal_positive", np.full(COLUMNS, 0.375))
    add("all_equal_negative", np.full(COLUMNS, -1.5))
    add("all_zero", np.zeros(COLUMNS))
    f16max = rng.uniform(-65504, 65504, COLUMNS)
    f16max[:4] = [65504, -65504, 65504, -65504]
    add("f16_max_range", f16max)
    add("tiny_1e-30", rng.normal(0, 1e-30, COLUMNS))
    add("tiny_1e-36", rng.normal(0, 1e-36, COLUMNS))
    add("small_1e-6", rng.normal(0, 1e-6, COLUMNS))
    mixed = rng.normal(0, 0.1, COLUMNS)
    mixed[32:64] = 0
    mixed[64:96] = 0.25
    mixed[128:160] *= 1000
    add("mixed_blocks", mixed)
    ties = np.round(rng.uniform(-8, 8, COLUMNS) * 2) / 2  # many exact .5 products
    ties[:32] = np.arange(-16, 16) / 2
    add("half_integers", ties)
    add("sparse", np.where(rng.uniform(0, 1, COLUMNS) < 0.1, rng.normal(0, 1, COLUMNS), 0))
    add("heavy_tail", rng.standard_t(2, COLUMNS) * 0.01)
    for i in range(40):  # random scales per 32-block, shifted means, a few outliers
        scale = 10.0 ** rng.uniform(-4, 1)
        values = rng.normal(rng.uniform(-0.5, 0.5) * scale, scale, COLUMNS)
        values *= np.repeat(10.0 ** rng.uniform(-1, 1, COLUMNS // 32), 32)
        if i % 3 == 0:
            values[rng.integers(0, COLUMNS)] *= 20
        add(f"random_{i}", values)
    return np.stack(rows), names


def make_importance():
    """Per-column importance (like mean squared activations): mostly ~1, a few large, some zero."""
    rng = np.random.default_rng(SEED + 2)
    importance = rng.gamma(2.0, 0.5, COLUMNS).astype(np.float32)
    importance[rng.choice(COLUMNS, 12, replace=False)] *= 40
    importance[rng.choice(COLUMNS, 8, replace=False)] = 0
    return importance


def write(name, array):
    path = os.path.join(OUT, name)
    np.ascontiguousarray(array).tofile(path)
    return os.path.getsize(path)


def qtool(*args):
    tool = os.environ.get("MVLM_QTOOL")
    subprocess.run([tool, *args], check=True)


def random_blocks(rng, qtype, count):
    block_size, type_size = quants.GGML_QUANT_SIZES[qtype]
    data = rng.integers(0, 256, size=(count, type_size), dtype=np.uint8)
    # f16 fields (d, dmin) get finite values of moderate size.
    f16_offsets = {
        T.Q8_0: [0], T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2],
        T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    }[qtype]
    for offset in f16_offsets:
        values = rng.normal(0, 0.05, count).astype(np.float16)
        data[:, offset:offset + 2] = values.view(np.uint8).reshape(count, 2)
    return data, block_size


def main():
    os.makedirs(OUT, exist_ok=True)
    rows, names = make_rows()
    sizes = {"rows.f32": write("rows.f32", rows), "importance.f32": write("importance.f32", make_importance())}
    for qtype, stem in [(T.Q8_0, "q8_0"), (T.Q4_0, "q4_0"), (T.Q4_1, "q4_1")]:
        q = quants.quantize(rows, qtype)
        sizes[f"{stem}.bin"] = write(f"{stem}.bin", q)
        sizes[f"{stem}.deq.f32"] = write(f"{stem}.deq.f32", quants.dequantize(q, qtype).astype(np.float32))

    llama_types = [(T.Q4_K, "q4_k"), (T.Q6_K, "q6_k"), (T.Q2_K, "q2_k"), (T.Q3_K, "q3_k"),
                   (T.Q5_K, "q5_k"), (T.Q5_0, "q5_0"), (T.Q5_1, "q5_1")]
    if os.environ.get("MVLM_QTOOL"):
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "rows.f32")
            rows.tofile(source)
            for qtype, stem in llama_types:
                qbin, deq = os.path.join(OUT, f"{stem}.bin"), os.path.join(tmp, "deq.f32")
                qtool("quant", qtype.name, str(COLUMNS), source, qbin, deq)
                q = np.fromfile(qbin, dtype=np.uint8).reshape(len(rows), -1)
                llama_deq = np.fromfile(deq, dtype=np.float32).reshape(rows.shape)
                gguf_deq = quants.dequantize(q, qtype).astype(np.float32)
                if qtype in (T.Q4_K, T.Q6_K):
                    write(f"{stem}.deq.f32", llama_deq)
                else:
                    write(f"{stem}.deq.f32", gguf_deq)
                same = np.array_equal(llama_deq.view(np.uint32), gguf_deq.view(np.uint32))
                print(f"{stem}: llama.cpp and gguf-python dequantization bitwise equal: {same}")
            # The imatrix path (quantize_q6_K / quantize_q4_K with quant_weights).
            importance = make_importance()
            imatrix = os.path.join(tmp, "imatrix.f32")
            importance.tofile(imatrix)
            for qtype, stem in [(T.Q6_K, "q6_k"), (T.Q4_K, "q4_k")]:
                qtool("chunkw", qtype.name, str(COLUMNS), source, imatrix, os.path.join(OUT, f"{stem}_imatrix.bin"))
    else:
        print("MVLM_QTOOL not set: keeping the committed llama.cpp-made fixtures", file=sys.stderr)

    rng = np.random.default_rng(SEED + 1)
    random_types = [(T.Q8_0, "q8_0"), (T.Q4_0, "q4_0"), (T.Q4_1, "q4_1"), (T.Q5_0, "q5_0"), (T.Q5_1, "q5_1"),
                    (T.Q2_K, "q2_k"), (T.Q3_K, "q3_k"), (T.Q4_K, "q4_k"), (T.Q5_K, "q5_k"), (T.Q6_K, "q6_k")]
    random_counts = {}
    for qtype, stem in random_types:
        block_size, _ = quants.GGML_QUANT_SIZES[qtype]
        count = 64 if block_size == 32 else 8
        data, _ = random_blocks(rng, qtype, count)
        write(f"random_{stem}.bin", data)
        write(f"random_{stem}.deq.f32", quants.dequantize(data, qtype).astype(np.float32))
        random_counts[qtype.name] = count * block_size

    manifest = {
        "columns": COLUMNS,
        "rows": names,
        "gguf_python": ["Q8_0", "Q4_0", "Q4_1"],
        "llama_cpp": [qtype.name for qtype, _ in llama_types],
        "random_elements": random_counts,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes")


if __name__ == "__main__":
    main()
