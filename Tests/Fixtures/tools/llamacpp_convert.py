#!/usr/bin/env python3
"""Runs llama.cpp's convert_hf_to_gguf.py on a folder, optionally telling it the byte-level
pre-tokenizer name (for vocabularies not in its hash list) or skipping the vocabulary (for folders
that have none, such as the dequantized SmolLM2 float folder), so its tensors and hyperparameter
keys can be compared with `mvlm convert --format gguf` (docs/gguf-export.md).

Usage: llamacpp_convert.py LLAMA_CPP_DIR FOLDER OUT.gguf OUTTYPE [--pre NAME] [--no-vocab]
Needs torch and transformers (and sentencepiece for tokenizer.model) importable.
"""
import runpy
import sys

llama_cpp, folder, out, outtype = sys.argv[1:5]
sys.path.insert(0, llama_cpp)
import conversion.base  # noqa: E402
import conversion.llama  # noqa: E402

if "--pre" in sys.argv:
    pre = sys.argv[sys.argv.index("--pre") + 1]
    conversion.base.TextModel.get_vocab_base_pre = lambda self, tokenizer: pre
if "--no-vocab" in sys.argv:
    conversion.llama.LlamaModel.set_vocab = lambda self: None
sys.argv = [llama_cpp + "/convert_hf_to_gguf.py", folder, "--outtype", outtype, "--outfile", out]
runpy.run_path(sys.argv[0], run_name="__main__")
