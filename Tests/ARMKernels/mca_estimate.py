#!/usr/bin/env python3
"""Turns Tests/ARMKernels/mca.sh's results.tsv into estimates for MobileVLM V2-1.7B (docs/arm.md):
decode, prefill and image-encode rates on a Snapdragon 888 (4 threads: 1 Cortex-X1 + 3 Cortex-A78)
and on one M1-class core, for MobileVLMKit's kernels and llama.cpp's, by one method:

  compute-bound time = sum over the model's matrices of (32-weight blocks x rows) x (cycles per
                       block-row from llvm-mca) / (the cores' summed clock),
  bandwidth ceiling  = sustained DRAM bandwidth / bytes read per decoded token,
  estimate           = the lower of the two rates (decode), the compute rate (prefill, encode).

Every number printed is an estimate (llvm-mca, model X) under the constants below, not a
measurement. Usage: mca_estimate.py RESULTS_TSV [CTX]   (CTX: cached positions during decode)."""
import sys

# ---- The model: MobileVLM V2-1.7B = MobileLLaMA-1.4B decoder + CLIP ViT-L/14-336 + LDPv2 -------
LAYERS, HIDDEN, FFN, VOCAB, KV_WIDTH = 24, 2048, 5632, 32000, 2048   # MHA: 16 heads x 128 = 2048
TOWER_LAYERS, TOWER_HIDDEN, TOWER_MLP, TOWER_TOKENS = 23, 1024, 4096, 577   # 24 layers, 23 used
PROJ_TOKENS = 576                         # LDPv2: two linears on the 576 patch tokens, then pooling
BLOCK_BYTES = {"Q4_0": 18 / 32, "Q8_0": 34 / 32, "Q4_K": 144 / 256, "Q6_K": 210 / 256}


def use_more_bits(i, n):
    """llama.cpp's q4_k_m rule for attn_v / ffn_down (Q6_K in these layers)."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def decoder_matrices(preset):
    """[(name, rows, cols, type)] of every matrix a decode step multiplies (token embedding: one row)."""
    out = []
    for i in range(LAYERS):
        big = preset == "q4_k_m" and use_more_bits(i, LAYERS)
        base = "Q4_0" if preset == "q4_0" else "Q4_K"
        out += [("q", HIDDEN, HIDDEN, base), ("k", KV_WIDTH, HIDDEN, base),
                ("v", KV_WIDTH, HIDDEN, "Q6_K" if big else base), ("o", HIDDEN, HIDDEN, base),
                ("gate", FFN, HIDDEN, base), ("up", FFN, HIDDEN, base),
                ("down", HIDDEN, FFN, "Q6_K" if big else base)]
    out.append(("output", VOCAB, HIDDEN, "Q6_K"))
    return out


def tower_matrices():
    m = []
    for _ in range(TOWER_LAYERS):
        m += [("qkv", 3 * TOWER_HIDDEN, TOWER_HIDDEN), ("o", TOWER_HIDDEN, TOWER_HIDDEN),
              ("fc1", TOWER_MLP, TOWER_HIDDEN), ("fc2", TOWER_HIDDEN, TOWER_MLP)]
    return m


# ---- The machines ---------------------------------------------------------------------------------
SD888_GHZ = [2.84, 2.42, 2.42, 2.42]       # 1 X1 + 3 A78 (the 4 threads of llama.cpp's -t 4)
SD888_BW_PEAK = 51.2                        # GB/s: LPDDR5-6400 (3200 MHz), 64-bit bus
SD888_BW_FRACTION = 0.50                    # assumed sustained fraction for the CPU cluster
M1_GHZ = [3.2]                              # one Firestorm core
M1_BW_PEAK = 68.25                          # GB/s: LPDDR4X-4266, 128-bit
M1_BW_FRACTION = 0.60                       # assumed sustained fraction for one core
FLOAT_MACS_PER_CYCLE = 8                    # tower attention (f32 FMLA, 2 pipes x 4 lanes): a peak
FLASH_GBS = 1.5                             # assumed cold read speed of UFS 3.1 storage
KV_BYTES = {"ours": 4, "llama": 2}          # f32 cache (MVLMRuntime) vs llama.cpp's default f16

KERNELS = {  # tool -> phase -> type -> kernel id (level dotprod: Snapdragon 888 and M1 have no i8mm)
    "ours": {"decode": {"Q4_0": "decode_q4_0_rows16", "Q4_K": "decode_q4_K_rows16", "Q6_K": "decode_q6_K_rows16",
                        "Q8_0": "decode_q8_0_rows16"},
             "prefill": {"Q4_0": "gemm_q4_0", "Q4_K": "gemm_q4_K", "Q6_K": "gemm_q6_K", "Q8_0": "gemm_q8_0"}},
    "llama": {"decode": {"Q4_0": "gemv_q4_0_4x4", "Q4_K": "gemv_q4_K_8x4", "Q6_K": "gemv_q6_K_8x4",
                         "Q8_0": "gemv_q8_0_4x4"},
              "prefill": {"Q4_0": "gemm_q4_0_4x4", "Q4_K": "gemm_q4_K_8x4", "Q6_K": "gemm_q6_K_8x4",
                          "Q8_0": "gemm_q8_0_4x4"}},
}


def load(path):
    lines = open(path).read().splitlines()
    head = lines[0].split("\t")
    cyc = {}
    for line in lines[1:]:
        r = dict(zip(head, line.split("\t")))
        if r["level"] == "dotprod" and r["cycles_per_block_row"] not in ("-", ""):
            cyc[(r["tool"], r["kernel"], r["cpu"])] = float(r["cycles_per_block_row"])
    return cyc


def main():
    cyc = load(sys.argv[1])
    ctx = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    def c(tool, phase, typ, cpu):
        return cyc.get((tool, KERNELS[tool][phase][typ], cpu))

    print("## Bytes and work per token (from the shapes and block sizes)\n")
    print("| file | weight bytes read per decoded token | 32-weight block-rows per token |")
    print("|---|---|---|")
    work = {}
    for preset in ("q4_0", "q4_k_m"):
        mats = decoder_matrices(preset)
        wbytes = sum(r * k * BLOCK_BYTES[t] for _, r, k, t in mats) + HIDDEN * BLOCK_BYTES[mats[0][3]]
        units = sum(r * k / 32 for _, r, k, _ in mats)
        work[preset] = (mats, wbytes)
        print("| %s | %.1f MB (+ one embedding row) | %.2f M |" % (preset, wbytes / 1e6, units / 1e6))
    kvpos = LAYERS * 2 * KV_WIDTH
    print("\nKV cache read per decoded token at %d cached positions: ours (f32) %.1f MB, llama.cpp (f16) %.1f MB.\n"
          % (ctx, ctx * kvpos * KV_BYTES["ours"] / 1e6, ctx * kvpos * KV_BYTES["llama"] / 1e6))

    machines = [("Snapdragon 888, 4 threads (X1 + 3 A78)", SD888_GHZ, SD888_BW_PEAK * SD888_BW_FRACTION,
                 [x for x in ("cortex-a57", "neoverse-n2", "neoverse-v1", "neoverse-n1@19", "neoverse-v1@19")
                  if any(k[2] == x for k in cyc)]),
                ("M1-class, 1 core", M1_GHZ, M1_BW_PEAK * M1_BW_FRACTION,
                 [x for x in ("apple-a14",) if any(k[2] == x for k in cyc)])]
    for title, ghz, bw, models in machines:
        clock = sum(ghz) * 1e9
        print("## %s: %.2f GHz summed, sustained bandwidth %.1f GB/s (assumed)\n" % (title, sum(ghz), bw))
        print("| preset | tool | model | decode compute tok/s | decode bandwidth ceiling tok/s | decode estimate tok/s | prefill tok/s |")
        print("|---|---|---|---|---|---|---|")
        for preset in ("q4_0", "q4_k_m"):
            mats, wbytes = work[preset]
            for tool in ("ours", "llama"):
                for cpu in models:
                    dec = sum(r * k / 32 * c(tool, "decode", t, cpu) for _, r, k, t in mats)
                    pre = sum(r * k / 32 * c(tool, "prefill", t, cpu) for n, r, k, t in mats if n != "output")
                    tok_c = clock / dec
                    nbytes = wbytes + ctx * kvpos * KV_BYTES[tool]
                    tok_b = bw * 1e9 / nbytes
                    print("| %s | %s | %s | %.1f | %.1f | **%.1f** | %.1f |"
                          % (preset, tool, cpu, tok_c, tok_b, min(tok_c, tok_b), clock / pre))
        print()
        print("| tool | model | tower Q8_0 linears (s) | + tower attention at %d MAC/cycle (s) | image encode estimate (s) |"
              % FLOAT_MACS_PER_CYCLE)
        print("|---|---|---|---|---|")
        tower_units = sum(r * k / 32 for _, r, k in tower_matrices()) * TOWER_TOKENS
        proj_units = (HIDDEN * TOWER_HIDDEN + HIDDEN * HIDDEN) / 32 * PROJ_TOKENS
        attn_macs = TOWER_LAYERS * 2 * TOWER_TOKENS * TOWER_TOKENS * TOWER_HIDDEN
        for tool in ("ours", "llama"):
            for cpu in models:
                lin = (tower_units + proj_units) * c(tool, "prefill", "Q8_0", cpu) / clock
                att = attn_macs / FLOAT_MACS_PER_CYCLE / clock
                print("| %s | %s | %.2f | %.2f | **%.2f** |" % (tool, cpu, lin, att, lin + att))
        print()
    print("Tower work: %.1f G MAC in its linears (%.0f GOP), %.1f G MAC in attention, %.2f G MAC in the projector."
          % (sum(r * k for _, r, k in tower_matrices()) * TOWER_TOKENS / 1e9,
             2 * sum(r * k for _, r, k in tower_matrices()) * TOWER_TOKENS / 1e9,
             TOWER_LAYERS * 2 * TOWER_TOKENS ** 2 * TOWER_HIDDEN / 1e9,
             (HIDDEN * TOWER_HIDDEN + HIDDEN * HIDDEN) * PROJ_TOKENS / 1e9))


if __name__ == "__main__":
    main()
