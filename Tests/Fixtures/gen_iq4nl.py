"""Generates the IQ4_NL fixtures in Tests/Fixtures/iq4nl (deterministic, seed 20261).

Regenerate with:

    MVLM_IQ4NL_HARNESS=/path/to/iq4nl_harness PYTHONPATH=LLAMA/gguf-py python Tests/Fixtures/gen_iq4nl.py

`iq4nl_harness` is built from iq4nl_harness.c (this folder; the build line is in its header) against
llama.cpp's libggml-base.a: it runs llama.cpp's own `quantize_iq4_nl` (what `llama-quantize` writes
for IQ4_NL, without and with an importance matrix) and `dequantize_row_iq4_nl`. gguf-python's
`gguf.quants.dequantize` decodes the same bytes and must agree bit for bit (checked here).

Outputs (little-endian, rows of COLUMNS floats):
- rows.f32: quant/rows.f32 (the shared quantization rows) followed by the hostile rows below.
- iq4_nl.bin / iq4_nl.deq.f32: llama.cpp's quantizer without importance, and the decoded values.
- iq4_nl_imatrix.bin / iq4_nl_imatrix.deq.f32: with quant/importance.f32 as the importance matrix.
- manifest.json: row names.
"""

import json
import os
import subprocess
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "iq4nl")
COLUMNS = 256
SEED = 20261


def hostile_rows(rng):
    rows = {}
    rows["zeros"] = np.zeros(COLUMNS)
    outlier = rng.normal(0, 0.02, COLUMNS)
    outlier[37] = 3.5
    outlier[200] = -9.0
    rows["one_outlier_per_block"] = outlier
    rows["subnormals"] = rng.uniform(-1, 1, COLUMNS) * 1e-39
    rows["below_group_eps"] = rng.uniform(-1, 1, COLUMNS) * 1e-16
    rows["near_group_eps"] = rng.uniform(-1, 1, COLUMNS) * 2e-15
    rows["huge_1e4"] = rng.normal(0, 1e4, COLUMNS)
    rows["f16_overflow_scale"] = rng.normal(0, 1e7, COLUMNS)
    rows["squares_overflow_1e20"] = rng.normal(0, 1e20, COLUMNS)
    rows["max_float"] = np.where(rng.uniform(size=COLUMNS) < 0.5, -1, 1) * 3.0e38
    grid = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], dtype=np.float64)
    rows["on_grid"] = grid[rng.integers(0, 16, COLUMNS)] * 0.01
    midpoints = (grid[1:] + grid[:-1]) / 2
    rows["grid_midpoints"] = midpoints[rng.integers(0, 15, COLUMNS)] * 0.01
    rows["all_equal"] = np.full(COLUMNS, -0.125)
    rows["single_nonzero"] = np.where(np.arange(COLUMNS) % 32 == 5, 0.75, 0.0)
    rows["positive_only"] = rng.uniform(0, 1, COLUMNS)
    return rows


def main():
    harness = os.environ.get("MVLM_IQ4NL_HARNESS")
    if not harness:
        sys.exit("set MVLM_IQ4NL_HARNESS to the iq4nl_harness binary (see iq4nl_harness.c)")
    rng = np.random.default_rng(SEED)
    base = np.fromfile(os.path.join(HERE, "quant", "rows.f32"), dtype="<f4").reshape(-1, COLUMNS)
    base_names = json.load(open(os.path.join(HERE, "quant", "manifest.json")))["rows"]
    extra = hostile_rows(rng)
    rows = np.concatenate([base, np.stack([v.astype(np.float32) for v in extra.values()])]).astype("<f4")
    assert np.all(np.isfinite(rows))
    names = list(base_names) + list(extra)
    os.makedirs(OUT, exist_ok=True)
    rows.tofile(os.path.join(OUT, "rows.f32"))
    importance = os.path.join(HERE, "quant", "importance.f32")
    for stem, extra_args in (("iq4_nl", []), ("iq4_nl_imatrix", [importance])):
        blocks, deq = os.path.join(OUT, stem + ".bin"), os.path.join(OUT, stem + ".deq.f32")
        subprocess.run([harness, str(COLUMNS), os.path.join(OUT, "rows.f32"), blocks, deq] + extra_args, check=True)
        raw = np.fromfile(blocks, dtype=np.uint8).reshape(len(names), -1)
        reference = quants.dequantize(raw, T.IQ4_NL).astype("<f4")
        ours = np.fromfile(deq, dtype="<f4").reshape(len(names), COLUMNS)
        same = (reference.view(np.uint32) == ours.view(np.uint32)) | (np.isnan(reference) & np.isnan(ours))
        assert same.all(), f"{stem}: gguf-python and llama.cpp decode differently"
    json.dump({"columns": COLUMNS, "rows": names}, open(os.path.join(OUT, "manifest.json"), "w"), indent=1)
    print(f"{len(names)} rows of {COLUMNS}")


if __name__ == "__main__":
    main()
