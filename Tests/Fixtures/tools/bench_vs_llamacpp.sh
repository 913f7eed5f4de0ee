#!/usr/bin/env bash
# Side by side with llama.cpp on the same weights (docs/performance.md, issue 8).
#
#   bash Tests/Fixtures/tools/bench_vs_llamacpp.sh LLAMA_BIN_DIR [WORK_DIR] [ROUNDS] [THREADS...]
#
# LLAMA_BIN_DIR holds llama-bench and llama-quantize, built outside this repository (for example
# from the llama-cpp-python sdist: cmake -B build -DGGML_NATIVE=ON -DLLAMA_CURL=OFF
# -DCMAKE_BUILD_TYPE=Release && cmake --build build --target llama-bench llama-quantize).
# WORK_DIR (default /tmp/mvlm-vs-llamacpp) receives the synthetic MobileLLaMA-1.4B (f16
# safetensors), its GGUF, llama-quantize's q4_0 / q4_k_m files and ours, about 7 GB; files already
# there are reused. Then ROUNDS (default 3) rounds per thread count (default 2) of, for q4_0 and
# q4_k_m: llama-bench -p 128,512 -n 64 -r 3, immediately followed by mvlm bench on the same weights.
# Each pair is printed as a table row and appended to WORK_DIR/pairs.jsonl.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
llama="${1:?usage: bench_vs_llamacpp.sh LLAMA_BIN_DIR [WORK_DIR] [ROUNDS] [THREADS...]}"
work="${2:-/tmp/mvlm-vs-llamacpp}"
rounds="${3:-3}"
shift $(( $# < 3 ? $# : 3 ))
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(2)
for tool in llama-bench llama-quantize; do
    [ -x "$llama/$tool" ] || { echo "error: $llama/$tool not found or not executable (build llama.cpp's tools first; see the header)" >&2; exit 64; }
done

mvlm="$root/.build/release/mvlm"
[ -x "$mvlm" ] || (cd "$root" && swift build -c release --product mvlm)
venv="$root/.build-venv"
if ! "$venv/bin/python" -c "import gguf, safetensors, numpy" 2>/dev/null; then
    python3 -m venv "$venv" && "$venv/bin/pip" install --quiet gguf safetensors numpy
fi

mkdir -p "$work" && cd "$work"
[ -f ml14/model.safetensors ] || "$mvlm" synth --preset mobilellama-1.4b -o ml14 --dtype f16
[ -f ml14-f16.gguf ] || "$venv/bin/python" "$root/Tests/Fixtures/tools/synthetic_to_gguf.py" ml14 ml14-f16.gguf
for p in q4_0 q4_k_m; do
    [ -f "ml14-$p.gguf" ] || "$llama/llama-quantize" ml14-f16.gguf "ml14-$p.gguf" "$p" 2 >/dev/null 2>&1
    [ -f "ours-$p.mvlm" ] || "$mvlm" convert ml14 -o "ours-$p.mvlm" --quant "$p"
done

echo "| file | threads | start (UTC) | prefill 128: llama.cpp / mvlm | ratio | prefill 512: llama.cpp / mvlm | ratio | decode 64: llama.cpp / mvlm (two runs, mean of steps) | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in "${threads[@]}"; do
    for r in $(seq 1 "$rounds"); do
        for p in q4_0 q4_k_m; do
            start=$(date -u +%H:%M)
            "$llama/llama-bench" -m "ml14-$p.gguf" -t "$t" -p 128,512 -n 64 -r 3 -o json 2>/dev/null > llama.json
            for pp in 128 512; do
                "$mvlm" bench "ours-$p.mvlm" --threads "$t" --prompt-tokens "$pp" --gen-tokens 64 --repetitions 3 --json > "mvlm-$pp.json"
            done
            python3 - "$p" "$t" "$start" <<'PY'
import json, sys
p, t, start = sys.argv[1:]
llama = {("pp%d" % r["n_prompt"]) if r["n_prompt"] else ("tg%d" % r["n_gen"]): (r["avg_ts"], r["stddev_ts"]) for r in json.load(open("llama.json"))}
ours = {pp: json.load(open("mvlm-%d.json" % pp)) for pp in (128, 512)}
decode = [ours[pp]["decode_mean_tokens_per_second"] for pp in (128, 512)]
row = {"scheme": p, "threads": int(t), "start": start, "llama": llama,
       "mvlm_prefill": {pp: ours[pp]["prefill_tokens_per_second"] for pp in (128, 512)}, "mvlm_decode_mean": decode}
open("pairs.jsonl", "a").write(json.dumps(row) + "\n")
cells = []
for pp in (128, 512):
    a, sd = llama["pp%d" % pp]
    b = ours[pp]["prefill_tokens_per_second"]
    cells += ["%.1f ± %.1f / %.1f" % (a, sd, b), "%.2f" % (b / a)]
a, sd = llama["tg64"]
cells += ["%.2f ± %.2f / %.2f, %.2f" % (a, sd, decode[0], decode[1]), "%.2f" % (sum(decode) / 2 / a)]
print("| %s | %s | %s | %s |" % (p, t, start, " | ".join(cells)))
PY
        done
    done
done
