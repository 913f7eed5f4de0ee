#!/usr/bin/env bash
# Builds the kernel test program (Tests/ARMKernels/*.c with every file of Sources/CMVLMKernels) for
# arm64 with the Swift toolchain's clang (the compiler SwiftPM uses for the package's C on every
# platform), links it statically with Debian's aarch64 cross toolchain, and runs it under
# qemu-aarch64 at three CPU models, then once natively on this x86-64 host:
#   -cpu max         all extensions: NEON, dotprod, i8mm, FP16         (expects level 3)
#   -cpu cortex-a76  ARMv8.2 with dotprod and FP16, no i8mm            (expects level 2)
#   -cpu cortex-a57  ARMv8.0, NEON only                                (expects level 1)
# A level the CPU lacks must not be dispatched: the program checks the detected level, and an
# instruction above it would stop the emulated program with SIGILL.
# Needs: clang, aarch64-linux-gnu-gcc (gcc-aarch64-linux-gnu), qemu-aarch64 (qemu-user).
#
#   bash Tests/ARMKernels/run.sh [BUILD_DIR]      # default: .build-arm
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-.build-arm}"
mkdir -p "$out/obj-arm64" "$out/obj-host"
# The Swift toolchain's clang (next to swift), unless CLANG names another.
clang_bin="${CLANG:-$(dirname "$(command -v swift)")/clang}"
[ -x "$clang_bin" ] || clang_bin=clang
srcs=(Sources/CMVLMKernels/*.c Tests/ARMKernels/*.c)
flags=(-O2 -std=gnu11 -Wall -Wno-unused-function -ISources/CMVLMKernels/include -ISources/CMVLMKernels -ITests/ARMKernels)

objs=()
for src in "${srcs[@]}"; do
    obj="$out/obj-arm64/$(echo "$src" | tr '/' '_').o"
    "$clang_bin" --target=aarch64-linux-gnu "${flags[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
done
aarch64-linux-gnu-gcc -static -o "$out/mvlm-kernel-tests-arm64" "${objs[@]}" -lm -lpthread

objs=()
for src in "${srcs[@]}"; do
    obj="$out/obj-host/$(echo "$src" | tr '/' '_').o"
    "$clang_bin" "${flags[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
done
"$clang_bin" -o "$out/mvlm-kernel-tests-host" "${objs[@]}" -lm -lpthread

status=0
for model in "max 3" "cortex-a76 2" "cortex-a57 1"; do
    set -- $model
    echo "== qemu-aarch64 -cpu $1"
    qemu-aarch64 -cpu "$1" "$out/mvlm-kernel-tests-arm64" --expect-level "$2" || status=1
done
echo "== host"
"$out/mvlm-kernel-tests-host" || status=1
exit $status
