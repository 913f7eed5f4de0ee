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
KV_BYTES = {"ours": 4, "llama": 2}
PROMPT_TOKENS = 246                         # llama.cpp's MobileVLM.md case 1 (image + text)
REPACK_GBS = 4.0                            # assumed: llama.cpp's load-time repack, bytes per second
ACTIVATION_BYTES = 30e6                     # assumed: scratch, activations (577 x 4096 f32 = 9.5 MB), code          # f32 cache (MVLMRuntime) vs llama.cpp's default f16

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
        if r["level"] == "dotprod" and r["cycles_per_block_row"] not in ("-", "", "missing"):
            macs = float(r["dot_macs_per_block_row"])
            if macs and abs(macs - 32) > 0.01:
                # The loop's dot instructions disagree with the declared work (trip counts or
                # work wrong for this build): such a figure is not used.
                print("(not used: %s %s on %s, %g MACs per declared block-row)" % (r["tool"], r["kernel"], r["cpu"], macs))
                continue
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

    # Each scenario: the cores (GHz, llvm-mca model standing for that core). Work is shared by the
    # cores in proportion to their speed (dynamic balance): rate = sum(GHz_i / cycles_i).
    sd888 = [("A57 model on all 4 cores (pessimistic)", [(f, "cortex-a57") for f in SD888_GHZ]),
             ("N2 model on all 4 cores (optimistic; LLVM 16's V1 is the same model)", [(f, "neoverse-n2") for f in SD888_GHZ]),
             ("X1 = V1 model, A78 = N1 model (llvm-mca 19: the closest models)",
              [(SD888_GHZ[0], "neoverse-v1@19")] + [(f, "neoverse-n1@19") for f in SD888_GHZ[1:]])]
    m1 = [("A14 model, 1 core", [(M1_GHZ[0], "apple-a14")])]
    machines = [("Snapdragon 888, 4 threads (1 X1 @ 2.84 GHz + 3 A78 @ 2.42 GHz)", sd888, SD888_BW_PEAK * SD888_BW_FRACTION),
                ("M1-class core, 1 thread (3.2 GHz)", m1, M1_BW_PEAK * M1_BW_FRACTION)]

    def seconds(cores, tool, phase, items):
        """items: [(block-rows, type)]: the time with every core sharing the work."""
        rate = 0.0
        for ghz, cpu in cores:
            cycles = sum(n * c(tool, phase, t, cpu) for n, t in items)
            rate += ghz * 1e9 / cycles
        return 1.0 / rate

    def available(cores):
        """Every kernel the estimates use has a checked figure on every model of the scenario."""
        return all(c(tool, phase, t, cpu) is not None for _, cpu in cores for tool in KERNELS
                   for phase in ("decode", "prefill") for t in ("Q4_0", "Q4_K", "Q6_K", "Q8_0"))

    tower_items = [(sum(r * k / 32 for _, r, k in tower_matrices()) * TOWER_TOKENS
                    + (HIDDEN * TOWER_HIDDEN + HIDDEN * HIDDEN) / 32 * PROJ_TOKENS, "Q8_0")]
    attn_macs = TOWER_LAYERS * 2 * TOWER_TOKENS * TOWER_TOKENS * TOWER_HIDDEN
    for title, scenarios, bw in machines:
        scenarios = [x for x in scenarios if available(x[1])]
        print("## %s, sustained bandwidth %.1f GB/s (assumed)\n" % (title, bw))
        if not scenarios:
            print("(no estimate: some decode / prefill kernel of a tool has no checked figure on these models)\n")
            continue
        print("| preset | tool | models | decode compute tok/s | decode bandwidth ceiling tok/s | decode estimate tok/s | prefill tok/s | image encode s |")
        print("|---|---|---|---|---|---|---|---|")
        for preset in ("q4_0", "q4_k_m"):
            mats, wbytes = work[preset]
            for tool in ("ours", "llama"):
                for label, cores in scenarios:
                    dec = seconds(cores, tool, "decode", [(r * k / 32, t) for _, r, k, t in mats])
                    pre = seconds(cores, tool, "prefill", [(r * k / 32, t) for n, r, k, t in mats if n != "output"])
                    enc = seconds(cores, tool, "prefill", tower_items) + attn_macs / FLOAT_MACS_PER_CYCLE / (
                        sum(g for g, _ in cores) * 1e9)
                    tok_b = bw * 1e9 / (wbytes + ctx * kvpos * KV_BYTES[tool])
                    print("| %s | %s | %s | %.1f | %.1f | **%.1f** | %.1f | %.2f |"
                          % (preset, tool, label, 1 / dec, tok_b, min(1 / dec, tok_b), 1 / pre, enc))
        print()
    print("Image encode = the tower's and projector's linears at the Q8_0 prefill kernel's cycles (both tools by")
    print("the same method) + the tower's attention (%.1f G MAC) at %d MAC per cycle per core (an assumed float"
          % (attn_macs / 1e9, FLOAT_MACS_PER_CYCLE))
    print("peak, the same for both).\n")

    # ---- Memory and cold start (Snapdragon 888) -------------------------------------------------
    tower_params = 24 * (4 * TOWER_HIDDEN ** 2 + 2 * TOWER_HIDDEN * TOWER_MLP)   # the file holds all 24 layers
    tower_bytes = tower_params * BLOCK_BYTES["Q8_0"] + (HIDDEN * TOWER_HIDDEN + HIDDEN * HIDDEN) * BLOCK_BYTES["Q8_0"]
    print("## Memory and time to first token on the Snapdragon 888 (cold start)\n")
    print("Assumed: flash read %.1f GB/s, prompt %d tokens (144 image tokens + text, the published case),"
          " %d cached positions, llama.cpp's load-time repack at %.1f GB/s, %d MB of activations and scratch."
          % (FLASH_GBS, PROMPT_TOKENS, ctx, REPACK_GBS, ACTIVATION_BYTES / 1e6))
    print()
    print("| preset | tool | models | files (MB) | peak RSS estimate (MB) | (RSS - KV) / files | cold read (s) | repack (s) | encode (s) | prefill (s) | first token (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    title, scenarios, bw = machines[0]
    scenarios = [x for x in scenarios if available(x[1])]
    if not scenarios:
        print("(no estimate: kernels missing)\n")
    for preset in ("q4_0", "q4_k_m"):
        mats, wbytes = work[preset]
        dec_file = wbytes + VOCAB * HIDDEN * BLOCK_BYTES[mats[0][3]] + (2 * LAYERS + 1) * HIDDEN * 4
        files = dec_file + tower_bytes
        for tool in ("ours", "llama"):
            kv = ctx * kvpos * KV_BYTES[tool]
            # Ours: the mapped files (rows16 in place) + KV + activations. llama.cpp: the mapped pages
            # stay resident after the repack copies them out (its issues #16761, #19578) + the copy.
            repacked = wbytes + tower_bytes   # every multiplied matrix; not the token embedding
            rss = files + kv + ACTIVATION_BYTES + (repacked if tool == "llama" else 0)
            for label, cores in scenarios:
                enc = seconds(cores, tool, "prefill", tower_items) + attn_macs / FLOAT_MACS_PER_CYCLE / (
                    sum(g for g, _ in cores) * 1e9)
                pre = PROMPT_TOKENS * seconds(cores, tool, "prefill", [(r * k / 32, t) for n, r, k, t in mats if n != "output"])
                dec = max(seconds(cores, tool, "decode", [(r * k / 32, t) for _, r, k, t in mats]), (wbytes + kv) / (bw * 1e9))
                read = files / (FLASH_GBS * 1e9)
                rep = repacked / (REPACK_GBS * 1e9) if tool == "llama" else 0.0
                print("| %s | %s | %s | %.0f | %.0f | %.2fx | %.2f | %.2f | %.2f | %.2f | **%.1f** |"
                      % (preset, tool, label, files / 1e6, rss / 1e6, (rss - kv) / files, read, rep, enc, pre,
                         read + rep + enc + pre + dec))
    print()
    print("Tower work: %.1f G MAC in its linears (%.0f GOP), %.1f G MAC in attention, %.2f G MAC in the projector."
          % (sum(r * k for _, r, k in tower_matrices()) * TOWER_TOKENS / 1e9,
             2 * sum(r * k for _, r, k in tower_matrices()) * TOWER_TOKENS / 1e9,
             attn_macs / 1e9, (HIDDEN * TOWER_HIDDEN + HIDDEN * HIDDEN) * PROJ_TOKENS / 1e9))


if __name__ == "__main__":
    main()
