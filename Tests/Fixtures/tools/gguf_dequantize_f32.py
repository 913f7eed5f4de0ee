#!/usr/bin/env python3
"""Writes an F32 copy of a GGUF file: every tensor dequantized by gguf-py, every metadata key
(tokenizer included) copied, general.file_type set to ALL_F32. The llama.cpp side of
docs/accuracy.md quantizes and scores against this file, so both tools start from the same floats
(the Q/K rows stay in the GGUF's own, llama.cpp-permuted order).

Usage: PYTHONPATH=GGUF_PY python3 gguf_dequantize_f32.py IN.gguf OUT.gguf
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType
from gguf.quants import dequantize

source, target = sys.argv[1:3]
reader = GGUFReader(source)
arch = reader.fields["general.architecture"].contents()
writer = GGUFWriter(target, arch)
for name, field in reader.fields.items():
    if name.startswith("GGUF.") or name == "general.architecture":
        continue
    if name == "general.file_type":
        writer.add_uint32(name, int(LlamaFileType.ALL_F32))
        continue
    kind = field.types[0]
    value = field.contents()
    if kind == GGUFValueType.ARRAY:
        writer.add_key_value(name, value, kind, sub_type=field.types[1])
    else:
        writer.add_key_value(name, value, kind)
for tensor in reader.tensors:
    values = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
    shape = [int(x) for x in reversed(tensor.shape.tolist())]
    writer.add_tensor(tensor.name, values.reshape(shape))
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
