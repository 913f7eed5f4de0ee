#!/usr/bin/env bash
# Speed on paper (docs/arm.md): compiles MobileVLMKit's ARM64 kernels and llama.cpp's ARM kernels
# with one compiler and one optimization level, cuts each kernel's hot loop out of the assembly,
# runs llvm-mca on it for each CPU model, and prints cycles per 32-weight block per row.
# Not run by CI: it needs a llama.cpp source tree (not part of this repository) and its figures are
# estimates from LLVM's scheduling models, not measurements.
#
#   bash Tests/ARMKernels/mca.sh LLAMA_CPP_TREE [OUT_DIR]       # OUT_DIR default: .build-mca
#
# LLAMA_CPP_TREE is a llama.cpp checkout or the vendor/llama.cpp folder of the llama-cpp-python
# sdist (pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36). Nothing of it is
# modified or copied into this repository: its two files are compiled in place to assembly in
# OUT_DIR. Environment:
#   CLANG         the compiler (default clang: the Swift toolchain's, which builds the package's C)
#   LLVM_MCA      default llvm-mca-16 (Debian's llvm-16; installed with apt-get when missing)
#   LLVM_MC       default llvm-mc-16 (decodes llama.cpp's `.inst` words)
#   OPT           optimization level for both tools (default -O2: SwiftPM's release level for C)
#   OURS_SRC      colon-separated folders holding our kernel sources (default Sources/CMVLMKernels)
#   MCA_CPUS      default cortex-a57,neoverse-v1,neoverse-n2,cortex-a55,apple-a14 (+ neoverse-v1@19,
#                 neoverse-n1@19 when llvm-mca-19 is installed: NAME@V runs llvm-mca-V's model)
# Outputs in OUT_DIR: results.tsv (one line per kernel and model), table.txt (the comparison),
# asm/*.s (the compiled files), loops/<kernel>/ (each cut loop, its blocks and llvm-mca reports).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    sed -n '2,24p' "$0" >&2
    exit 2
fi
llama="$(cd "$1" && pwd)" || { echo "mca.sh: $1: not a folder" >&2; exit 2; }
out="${2:-$repo/.build-mca}"
clang_bin="${CLANG:-clang}"
opt="${OPT:--O2}"
export LLVM_MCA="${LLVM_MCA:-llvm-mca-16}" LLVM_MC="${LLVM_MC:-llvm-mc-16}"
cpus="${MCA_CPUS:-cortex-a57,neoverse-v1,neoverse-n2,cortex-a55,apple-a14}"
# llvm-mca 19 (Debian bookworm's llvm-19), when installed, adds two models LLVM 16 lacks: its own
# Neoverse-V1 and Neoverse-N1 (the Cortex-A76 family that A78 descends from). NAME@19 in MCA_CPUS.
if [ -z "${MCA_CPUS:-}" ] && command -v llvm-mca-19 >/dev/null; then
    cpus="$cpus,neoverse-v1@19,neoverse-n1@19"
fi
ours_src="${OURS_SRC:-$repo/Sources/CMVLMKernels}"
mattr="+dotprod,+i8mm,+fullfp16,+bf16"

ggml="$llama/ggml"
for f in "$ggml/src/ggml-cpu/arch/arm/repack.cpp" "$ggml/src/ggml-cpu/arch/arm/quants.c" "$ggml/include/ggml.h"; do
    [ -f "$f" ] || { echo "mca.sh: $f not found: is $1 a llama.cpp tree?" >&2; exit 2; }
done

# Tools: llvm-16 (llvm-mca, llvm-mc) and the AArch64 C++ headers for repack.cpp, from apt if missing.
need=()
command -v "$LLVM_MCA" >/dev/null || need+=(llvm-16)
command -v python3 >/dev/null || need+=(python3)
command -v "$clang_bin" >/dev/null || { echo "mca.sh: $clang_bin not found (set CLANG)" >&2; exit 2; }
if ! echo '#include <cmath>' | "$clang_bin" --target=aarch64-linux-gnu -x c++ -fsyntax-only - 2>/dev/null; then
    need+=(libstdc++-12-dev-arm64-cross libc6-dev-arm64-cross)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "== apt-get install ${need[*]}"
    apt-get install -y "${need[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi

mkdir -p "$out/asm" "$out/loops"
rm -f "$out"/asm/*.s
echo "== compiling ($clang_bin $opt, $("$clang_bin" --version | head -1))"
inc=(-I"$ggml/include" -I"$ggml/src" -I"$ggml/src/ggml-cpu")
"$clang_bin" --target=aarch64-linux-gnu -march=armv8.2-a+dotprod "$opt" -std=c++17 -DNDEBUG "${inc[@]}" \
    -S "$ggml/src/ggml-cpu/arch/arm/repack.cpp" -o "$out/asm/llama-repack-dotprod.s"
"$clang_bin" --target=aarch64-linux-gnu -march=armv8.6-a+i8mm "$opt" -std=c++17 -DNDEBUG "${inc[@]}" \
    -S "$ggml/src/ggml-cpu/arch/arm/repack.cpp" -o "$out/asm/llama-repack-i8mm.s"
"$clang_bin" --target=aarch64-linux-gnu -march=armv8.2-a+dotprod "$opt" -std=c11 -DNDEBUG "${inc[@]}" \
    -S "$ggml/src/ggml-cpu/arch/arm/quants.c" -o "$out/asm/llama-quants-dotprod.s"
# Ours: the plain arm64 target (ARMv8.0); each level's functions carry their own target attribute.
# -DMVLM_MCA turns the MVLM_MCA_BEGIN / _END macros into asm comments.
n=0
IFS=: read -r -a dirs <<<"$ours_src"
for d in "${dirs[@]}"; do
    n=$((n + 1))
    for src in "$d"/*.c; do
        "$clang_bin" --target=aarch64-linux-gnu "$opt" -std=gnu11 -DMVLM_MCA -I"$d/include" -I"$d" \
            -Wno-unused-function -S "$src" -o "$out/asm/ours$n-$(basename "$src" .c).s"
    done
done

# The kernels: tool, id, GGUF type, phase, level, assembly, loop selector (mca_loops.py), trip counts
# of the nested loops (pre-order, per iteration of their parent), and the work of one iteration of
# the selected loop in 32-weight blocks x rows x tokens (per marker for ours: a loop the compiler
# unrolled holds the marker more than once). The tool checks the work against the dot-product
# instructions in the loop (16 MACs per SDOT, 32 per SMMLA) and flags a mismatch.
# llama.cpp: what ggml_repack_get_optimal_repack_type picks on a dotprod CPU (Snapdragon 888,
# Apple M1) and on an i8mm CPU, and the plain quants.c dot products (used when nothing is repacked).
spec="$out/kernels.tsv"
cat >"$spec" <<'EOF'
llama	gemv_q4_0_4x4	Q4_0	decode	dotprod	llama-repack-dotprod	func:ggml_gemv_q4_0_4x4_q8_0:hot	-	4
llama	gemv_q8_0_4x4	Q8_0	decode	dotprod	llama-repack-dotprod	func:ggml_gemv_q8_0_4x4_q8_0:hot	-	4
llama	gemv_q4_K_8x4	Q4_K	decode	dotprod	llama-repack-dotprod	func:ggml_gemv_q4_K_8x4_q8_K:hot^1	4	64
llama	gemv_q6_K_8x4	Q6_K	decode	dotprod	llama-repack-dotprod	func:ggml_gemv_q6_K_8x4_q8_K:hot^2	2,4	64
llama	gemm_q4_0_4x4	Q4_0	prefill	dotprod	llama-repack-dotprod	func:ggml_gemm_q4_0_4x4_q8_0:hot	-	64
llama	gemm_q8_0_4x4	Q8_0	prefill	dotprod	llama-repack-dotprod	func:ggml_gemm_q8_0_4x4_q8_0:hot	-	16
llama	gemm_q4_K_8x4	Q4_K	prefill	dotprod	llama-repack-dotprod	func:ggml_gemm_q4_K_8x4_q8_K:hot^2	4,8,4	256
llama	gemm_q6_K_8x4	Q6_K	prefill	dotprod	llama-repack-dotprod	func:ggml_gemm_q6_K_8x4_q8_K:hot^3	2,4,4	256
llama	vec_dot_q4_0	Q4_0	decode	dotprod-plain	llama-quants-dotprod	func:ggml_vec_dot_q4_0_q8_0:hot	-	2
llama	vec_dot_q8_0	Q8_0	decode	dotprod-plain	llama-quants-dotprod	func:ggml_vec_dot_q8_0_q8_0:hot	-	2
llama	vec_dot_q4_K	Q4_K	decode	dotprod-plain	llama-quants-dotprod	func:ggml_vec_dot_q4_K_q8_K:hot	-	8
llama	vec_dot_q6_K	Q6_K	decode	dotprod-plain	llama-quants-dotprod	func:ggml_vec_dot_q6_K_q8_K:hot	-	8
llama	gemv_q4_0_4x8	Q4_0	decode	i8mm	llama-repack-i8mm	func:ggml_gemv_q4_0_4x8_q8_0:hot	-	4
llama	gemv_q8_0_4x8	Q8_0	decode	i8mm	llama-repack-i8mm	func:ggml_gemv_q8_0_4x8_q8_0:hot	-	4
llama	gemv_q4_K_8x8	Q4_K	decode	i8mm	llama-repack-i8mm	func:ggml_gemv_q4_K_8x8_q8_K:hot^1	4	64
llama	gemv_q6_K_8x8	Q6_K	decode	i8mm	llama-repack-i8mm	func:ggml_gemv_q6_K_8x8_q8_K:hot^2	2,4	64
llama	gemm_q4_0_4x8	Q4_0	prefill	i8mm	llama-repack-i8mm	func:ggml_gemm_q4_0_4x8_q8_0:hot	-	64
llama	gemm_q8_0_4x8	Q8_0	prefill	i8mm	llama-repack-i8mm	func:ggml_gemm_q8_0_4x8_q8_0:hot	-	16
llama	gemm_q4_K_8x8	Q4_K	prefill	i8mm	llama-repack-i8mm	func:ggml_gemm_q4_K_8x8_q8_K:hot^2	4,4	256
llama	gemm_q6_K_8x8	Q6_K	prefill	i8mm	llama-repack-i8mm	func:ggml_gemm_q6_K_8x8_q8_K:hot^3	2,4,4	256
ours	decode_q4_0_rows16	Q4_0	decode	dotprod	ours	marker:decode_q4_0_rows16_dotprod	-	16
ours	decode_q8_0_rows16	Q8_0	decode	dotprod	ours	marker:decode_q8_0_rows16_dotprod	-	16
ours	decode_q4_K_rows16	Q4_K	decode	dotprod	ours	marker:decode_q4_K_rows16_dotprod^1	4	128
ours	decode_q6_K_rows16	Q6_K	decode	dotprod	ours	marker:decode_q6_K_rows16_dotprod^1	4	128
ours	decode_q4_0_rowmajor	Q4_0	decode	dotprod-plain	ours	marker:decode_q4_0_rowmajor_dotprod	-	2
ours	decode_q8_0_rowmajor	Q8_0	decode	dotprod-plain	ours	marker:decode_q8_0_rowmajor_dotprod	-	2
ours	decode_q4_K_rowmajor	Q4_K	decode	dotprod-plain	ours	marker:decode_q4_K_rowmajor_dotprod	-	8
ours	decode_q6_K_rowmajor	Q6_K	decode	dotprod-plain	ours	marker:decode_q6_K_rowmajor_dotprod	-	4
ours	gemm_q4_0	Q4_0	prefill	dotprod	ours	marker:gemm_q4_0_dotprod	-	32
ours	gemm_q8_0	Q8_0	prefill	dotprod	ours	marker:gemm_q8_0_dotprod	-	32
ours	gemm_q4_K	Q4_K	prefill	dotprod	ours	marker:gemm_q4_k_dotprod	-	32
ours	gemm_q6_K	Q6_K	prefill	dotprod	ours	marker:gemm_q6_k_dotprod	-	16
ours	gemm_q4_0	Q4_0	prefill	i8mm	ours	marker:gemm_q4_0_i8mm	-	32
ours	gemm_q8_0	Q8_0	prefill	i8mm	ours	marker:gemm_q8_0_i8mm	-	32
ours	gemm_q4_K	Q4_K	prefill	i8mm	ours	marker:gemm_q4_k_i8mm	-	32
ours	gemm_q6_K	Q6_K	prefill	i8mm	ours	marker:gemm_q6_k_i8mm	-	16
ours	decode_q4_0_rows16	Q4_0	decode	neon	ours	marker:decode_q4_0_rows16_neon	-	16
ours	decode_q8_0_rows16	Q8_0	decode	neon	ours	marker:decode_q8_0_rows16_neon	-	16
ours	decode_q4_K_rows16	Q4_K	decode	neon	ours	marker:decode_q4_K_rows16_neon^1	4	128
ours	decode_q6_K_rows16	Q6_K	decode	neon	ours	marker:decode_q6_K_rows16_neon^1	4	128
EOF

tsv="$out/results.tsv"
printf 'tool\tkernel\ttype\tphase\tlevel\tcpu\tfunction\tloop\tcycles_per_iter\trthroughput_per_iter\tunits_per_iter\tcycles_per_block_row\trthroughput_per_block_row\tdot_macs_per_block_row\tbottleneck\n' >"$tsv"
failed=0
while IFS=$'\t' read -r tool id type phase level asmkey selector trips units; do
    [ -n "$tool" ] || continue
    if [ "$asmkey" = ours ]; then
        name="${selector#marker:}"
        name="${name%^*}"
        asm="$(grep -l -E "LLVM-MCA-BEGIN $name\$" "$out"/asm/ours*.s 2>/dev/null | head -1 || true)"
        if [ -z "$asm" ]; then
            echo "-- $tool $id ($level): marker $name not in the compiled sources: not analysed"
            failed=1
            printf '%s\t%s\t%s\t%s\t%s\t-\t-\t-\tmissing\t-\t-\t-\t-\t-\tmarker not found\n' "$tool" "$id" "$type" "$phase" "$level" >>"$tsv"
            continue
        fi
    else
        asm="$out/asm/$asmkey.s"
    fi
    dir="$out/loops/$tool-$id-$level"
    rm -rf "$dir"
    if ! python3 "$here/mca_loops.py" measure "$asm" "$selector" "$trips" "$cpus" "$mattr" "$dir" >"$dir.json" 2>"$dir.err"; then
        echo "-- $tool $id ($level): $(cat "$dir.err")"
        failed=1
        continue
    fi
    python3 - "$dir.json" "$tool" "$id" "$type" "$phase" "$level" "$units" >>"$tsv" <<'PY'
import json, sys
path, tool, kid, typ, phase, level, units = sys.argv[1:]
for line in open(path):
    r = json.loads(line)
    u = float(units) * max(1, r["markers_in_loop"])
    macs = r["dot_macs_per_iter"] / u if r["dot_macs_per_iter"] else 0
    print("\t".join(str(x) for x in (tool, kid, typ, phase, level, r["cpu"], r["function"], r["loop"],
          r["cycles_per_iter"], r["rthroughput_per_iter"], u, round(r["cycles_per_iter"] / u, 3),
          round(r["rthroughput_per_iter"] / u, 3), round(macs, 1), r["bottleneck"])))
PY
done <"$spec"

python3 "$here/mca_table.py" "$tsv" | tee "$out/table.txt"
if grep -q MISMATCH "$out/table.txt"; then
    echo "mca.sh: a loop's dot instructions disagree with its declared work (MISMATCH above): fix its trip counts" >&2
    failed=1
fi
python3 "$here/mca_estimate.py" "$tsv" | tee "$out/estimates.md"
exit $failed
