#!/usr/bin/env python3
"""Regenerates every committed test fixture with the real writers (torch, safetensors, h5py,
keras, gguf, transformers).

Set-up (once, outside the repository):
    python3 -m venv /work/venv
    /work/venv/bin/pip install torch==2.13.0          # the local CPU wheel
    /work/venv/bin/pip install transformers safetensors h5py gguf keras numpy
Run:
    /work/venv/bin/python Tests/Fixtures/generate.py            # all formats
    /work/venv/bin/python Tests/Fixtures/generate.py safetensors gguf   # some

Each gen_<name>.py writes Tests/Fixtures/<name>/ (files plus an expected.json of reference values
computed by the Python libraries) and is deterministic, so a rerun gives identical bytes.
"""
import importlib.util
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def main() -> None:
    wanted = sys.argv[1:]
    scripts = sorted(HERE.glob("gen_*.py"))
    for script in scripts:
        name = script.stem[len("gen_"):]
        if wanted and name not in wanted:
            continue
        print(f"== {script.name}", flush=True)
        spec = importlib.util.spec_from_file_location(script.stem, script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main()


if __name__ == "__main__":
    main()
