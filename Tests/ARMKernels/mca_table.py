#!/usr/bin/env python3
"""Prints Tests/ARMKernels/mca.sh's results.tsv as tables (docs/arm.md):
  1. every kernel: cycles per 32-weight block per row (per token for prefill) on each CPU model,
     from llvm-mca's Total Cycles / Iterations, with the Block RThroughput bound in brackets;
  2. the comparison, ours against llama.cpp's, per type, phase and level: llama / ours (> 1: ours
     needs fewer cycles);
  3. each kernel's bottleneck on each model (the busiest resource of the loop's largest block).
All figures are estimates (llvm-mca, model X), not measurements."""
import sys
from collections import OrderedDict

MODEL_NOTE = {
    "cortex-a57": "A57 (LLVM's model for X1/A78 too: pessimistic)",
    "neoverse-v1": "V1 (LLVM 16: the N2 model)",
    "neoverse-n2": "N2 (~A710: optimistic)",
    "cortex-a55": "A55 (in-order little core)",
    "apple-a14": "A14 (M1-class; LLVM's Cyclone-family model)",
    "neoverse-v1@19": "V1 by llvm-mca 19 (its own V1 model; X1's bigger sibling: optimistic for X1)",
    "neoverse-n1@19": "N1 by llvm-mca 19 (Cortex-A76 family, A78's ancestor: the closest stand-in for A78)",
}

PAIRS = [  # (label, ours (kernel, level), llama (kernel, level))
    ("Q4_0 decode, dotprod", ("decode_q4_0_rows16", "dotprod"), ("gemv_q4_0_4x4", "dotprod")),
    ("Q4_K decode, dotprod", ("decode_q4_K_rows16", "dotprod"), ("gemv_q4_K_8x4", "dotprod")),
    ("Q6_K decode, dotprod", ("decode_q6_K_rows16", "dotprod"), ("gemv_q6_K_8x4", "dotprod")),
    ("Q8_0 decode, dotprod", ("decode_q8_0_rows16", "dotprod"), ("gemv_q8_0_4x4", "dotprod")),
    ("Q4_0 prefill, dotprod", ("gemm_q4_0", "dotprod"), ("gemm_q4_0_4x4", "dotprod")),
    ("Q4_K prefill, dotprod", ("gemm_q4_K", "dotprod"), ("gemm_q4_K_8x4", "dotprod")),
    ("Q6_K prefill, dotprod", ("gemm_q6_K", "dotprod"), ("gemm_q6_K_8x4", "dotprod")),
    ("Q8_0 prefill, dotprod", ("gemm_q8_0", "dotprod"), ("gemm_q8_0_4x4", "dotprod")),
    ("Q4_0 prefill, i8mm", ("gemm_q4_0", "i8mm"), ("gemm_q4_0_4x8", "i8mm")),
    ("Q4_K prefill, i8mm", ("gemm_q4_K", "i8mm"), ("gemm_q4_K_8x8", "i8mm")),
    ("Q6_K prefill, i8mm", ("gemm_q6_K", "i8mm"), ("gemm_q6_K_8x8", "i8mm")),
    ("Q8_0 prefill, i8mm", ("gemm_q8_0", "i8mm"), ("gemm_q8_0_4x8", "i8mm")),
    ("Q4_0 decode, row-major", ("decode_q4_0_rowmajor", "dotprod-plain"), ("vec_dot_q4_0", "dotprod-plain")),
    ("Q4_K decode, row-major", ("decode_q4_K_rowmajor", "dotprod-plain"), ("vec_dot_q4_K", "dotprod-plain")),
    ("Q6_K decode, row-major", ("decode_q6_K_rowmajor", "dotprod-plain"), ("vec_dot_q6_K", "dotprod-plain")),
    ("Q8_0 decode, row-major", ("decode_q8_0_rowmajor", "dotprod-plain"), ("vec_dot_q8_0", "dotprod-plain")),
]


def main(path):
    rows = [dict(zip(*(lambda h, l: (h, l))(header, line.rstrip("\n").split("\t"))))
            for header in [open(path).readline().rstrip("\n").split("\t")]
            for line in list(open(path))[1:] if line.strip()]
    cpus = list(OrderedDict.fromkeys(r["cpu"] for r in rows if r["cpu"] != "-"))
    kernels = list(OrderedDict.fromkeys((r["tool"], r["kernel"], r["level"]) for r in rows))
    cell = {(r["tool"], r["kernel"], r["level"], r["cpu"]): r for r in rows}

    print("Estimates (llvm-mca, model per column): cycles per 32-weight block per row (prefill: per")
    print("row per token), Total Cycles / iterations [Block RThroughput]. dotMAC: MACs per block-row")
    print("counted from the loop's SDOT/SMMLA instructions (32 = the declared work; - = no dot")
    print("instructions, e.g. the NEON level).")
    print("Models: " + "; ".join("%s = %s" % (c, MODEL_NOTE.get(c, c)) for c in cpus))
    print()
    head = "%-6s %-22s %-13s" % ("tool", "kernel", "level") + "".join("%17s" % c for c in cpus) + "  dotMAC"
    print(head)
    print("-" * len(head))
    for k in kernels:
        line = "%-6s %-22s %-13s" % k
        macs = "-"
        for c in cpus:
            r = cell.get(k + (c,))
            if r is None:
                missing = next((x for x in rows if (x["tool"], x["kernel"], x["level"]) == k), None)
                line += "%17s" % ("missing" if missing and missing["cycles_per_iter"] == "missing" else "-")
                continue
            line += "%17s" % ("%.2f [%.2f]" % (float(r["cycles_per_block_row"]), float(r["rthroughput_per_block_row"])))
            m = float(r["dot_macs_per_block_row"])
            macs = ("%g" % m if m else "-") + ("" if not m or abs(m - 32) < 0.01 else " MISMATCH")
        print(line + "  " + macs)
    print()
    print("Comparison: llama.cpp cycles / ours cycles per block-row (> 1: ours needs fewer cycles).")
    head = "%-24s" % "" + "".join("%17s" % c for c in cpus)
    print(head)
    print("-" * len(head))
    for label, ours, llama in PAIRS:
        line = "%-24s" % label
        for c in cpus:
            a = cell.get(("ours",) + ours + (c,))
            b = cell.get(("llama",) + llama + (c,))
            if a is None or b is None:
                line += "%17s" % "n/a"
            else:
                x, y = float(a["cycles_per_block_row"]), float(b["cycles_per_block_row"])
                line += "%17s" % ("%.2f/%.2f=%.2fx" % (y, x, y / x))
        print(line)
    print()
    print("Bottleneck (busiest resource of the largest block; 'dependency/latency' when the block's")
    print("cycles exceed 1.2 x that resource's pressure):")
    for k in kernels:
        for c in cpus:
            r = cell.get(k + (c,))
            if r is not None:
                print("  %-6s %-22s %-13s %-12s %s" % (k + (c, r["bottleneck"])))


if __name__ == "__main__":
    main(sys.argv[1])
