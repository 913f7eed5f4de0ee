#!/usr/bin/env bash
# Token ids of Debian's /usr/share/common-licenses/GPL-3 by llama.cpp's own tokenizer for SmolLM2
# (Tests/Fixtures/real/gpl3_*ids.txt): the whole text, its first 337 lines (calibration) and its
# last 337 lines (held out). SmolLM2's GGUF sets add_bos_token false, so no BOS is added.
# Needs llama.cpp's llama-tokenize, built outside the repository (from the llama-cpp-python sdist:
# cmake -S vendor/llama.cpp -B build && cmake --build build --target llama-tokenize).
# Usage: tokenize_gpl3.sh LLAMA_BIN_DIR SmolLM2-135M-Instruct.Q4_1.gguf
set -euo pipefail
bin="$1"; model="$2"
out="$(cd "$(dirname "$0")/.." && pwd)/real"
text=/usr/share/common-licenses/GPL-3
tmp="$(mktemp -d)"
head -n 337 "$text" > "$tmp/calib.txt"
tail -n +338 "$text" > "$tmp/heldout.txt"
ids() { LD_LIBRARY_PATH="$bin" "$bin/llama-tokenize" -m "$model" -f "$1" --ids --log-disable 2>/dev/null | tail -n 1 | tr -d '[] ' ; }
ids "$text" > "$out/gpl3_ids.txt"
ids "$tmp/calib.txt" > "$out/gpl3_calib_ids.txt"
ids "$tmp/heldout.txt" > "$out/gpl3_heldout_ids.txt"
wc -c "$out"/gpl3_*ids.txt
