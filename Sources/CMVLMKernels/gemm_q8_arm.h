// The ARM prefill kernels of gemm_q8.c, written once and included once per level. Not a public
// header. The including file defines:
//   TARGET     the level's function attribute (MVLM_NEON, MVLM_DOTPROD, MVLM_I8MM)
//   FN(name)   the name with the level's suffix
//   LEVEL_NAME "neon", "dotprod" or "i8mm" (llvm-mca region names)
//   KIND       0: NEON (SDOT emulated: SMULL + ADDP + SADALP), 1: SDOT by element, 2: SMMLA
//
// One call of FN(qtile) runs 8 weight rows (half `hh` of a 16-row panel) against 4 tokens (from
// `lane0` of an 8-token tile) over `nb` blocks, adding into fa[token][rows 0-3 | rows 4-7]: per
// sub-block, exact int32 dot products (started at offset · -Σx), then one FMA with (row scale) ·
// (token scale), and Q4_K's min term, in the order of the portable kernel, so every level gives
// the portable kernel's floats.

// llvm-mca regions, one per type (the dead ones vanish in each type's specialization): one
// sub-block (a 32-input block; half of one for Q6_K) of 8 rows x 4 tokens.
#define MCA_MARK(WHICH)                                               \
    do {                                                              \
        if (type == T_Q4_0) MVLM_MCA_##WHICH("gemm_q4_0_" LEVEL_NAME); \
        if (type == T_Q8_0) MVLM_MCA_##WHICH("gemm_q8_0_" LEVEL_NAME); \
        if (type == T_Q4_K) MVLM_MCA_##WHICH("gemm_q4_k_" LEVEL_NAME); \
        if (type == T_Q6_K) MVLM_MCA_##WHICH("gemm_q6_k_" LEVEL_NAME); \
    } while (0)

// With markers, the accumulators are pinned before the end marker, so the compiler cannot sink a
// sub-block's scaling past it (the region then holds exactly one sub-block's work).
#define MCA_PIN(v) MVLM_PF_PIN(v)

#if KIND == 0
#define SDOT(acc, w, x, lane) sdot_emulated(acc, w, vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x), lane)))
#elif KIND == 1
#define SDOT(acc, w, x, lane) vdotq_laneq_s32(acc, w, x, lane)
#endif

TARGET MVLM_INLINE void FN(qtile)(int type, int hh, int lane0, const uint8_t *panel, int nb, const uint8_t *xt,
                                  float32x4_t fa[4][2]) {
    int sub = subblocks(type), groups = 8 / sub, sb = sub_bytes(type, 16), shift = offset_shift(type, 0);
    for (int bi = 0; bi < nb; bi++) {
        const uint8_t *xb = xt + bi * XB_BYTES;
        float32x4_t d = vld1q_f32((const float *)(xb + XB_D) + lane0);
        for (int h = 0; h < sub; h++) {
            const uint8_t *ps = panel + (bi * sub + h) * sb;
            const int32_t *ns = (const int32_t *)(xb + (sub == 1 ? XB_NSUM : XB_NSUM16 + 32 * h)) + lane0;
            int32x4_t acc[4][2];
#if KIND == 2
            MCA_MARK(BEGIN);
            // acc[rp][u]: rows 2rp, 2rp + 1 (of the half) x tokens 2u, 2u + 1, as SMMLA's 2x2 tile.
            int32x4_t start[2];
            for (int u = 0; u < 2; u++) {
                int32x2_t n = vld1_s32(ns + 2 * u);
                int32x4_t v = vcombine_s32(n, n);
                start[u] = shift >= 0 ? vshlq_s32(v, vdupq_n_s32(shift)) : vdupq_n_s32(0);
            }
            int32x4_t mm[4][2];
            for (int rp = 0; rp < 4; rp++) mm[rp][0] = start[0], mm[rp][1] = start[1];
#pragma clang loop unroll(full)
            for (int p = 0; p < groups / 2; p++) {
                const uint8_t *xg = xb + (h * groups / 2 + p) * 64 + (lane0 / 2) * 16;
                int8x16_t x0 = vld1q_s8((const int8_t *)xg), x1 = vld1q_s8((const int8_t *)(xg + 16));
                const int8_t *wp = (const int8_t *)(ps + p * 128 + hh * 64);
                for (int rp = 0; rp < 4; rp++) {
                    int8x16_t w = vld1q_s8(wp + 16 * rp);
                    mm[rp][0] = vmmlaq_s32(mm[rp][0], w, x0);
                    mm[rp][1] = vmmlaq_s32(mm[rp][1], w, x1);
                }
            }
            for (int u = 0; u < 2; u++) {
                acc[2 * u][0] = vuzp1q_s32(mm[0][u], mm[1][u]);
                acc[2 * u + 1][0] = vuzp2q_s32(mm[0][u], mm[1][u]);
                acc[2 * u][1] = vuzp1q_s32(mm[2][u], mm[3][u]);
                acc[2 * u + 1][1] = vuzp2q_s32(mm[2][u], mm[3][u]);
            }
#else
            MCA_MARK(BEGIN);
            for (int i = 0; i < 4; i++) {
                int32x4_t v = shift >= 0 ? vdupq_n_s32(ns[i] * (1 << shift)) : vdupq_n_s32(0);
                acc[i][0] = acc[i][1] = v;
            }
#pragma clang loop unroll(full)
            for (int p = 0; p < groups / 2; p++) {
                const uint8_t *xg = xb + (h * groups / 2 + p) * 64 + (lane0 / 2) * 16;
                const int8_t *w0 = (const int8_t *)(ps + 2 * p * 64 + hh * 32), *w1 = w0 + 64;
                // Second halves behind MVLM_OPAQUE: no LDP of q registers, which the in-order
                // Cortex-A55 issues at a third of the rate of two LDRs (LLVM's model: its load
                // unit was this loop's bottleneck); the big cores take either form at one cost.
                // Not for Q4_K, whose loop the A55 model runs slower without the LDPs.
                const uint8_t *xg1 = xg + 16;
                const int8_t *w0h = w0 + 16, *w1h = w1 + 16;
                if (type != T_Q4_K) {
                    MVLM_OPAQUE(xg1);
                    MVLM_OPAQUE(w0h);
                    MVLM_OPAQUE(w1h);
                }
                int8x16_t x0 = vld1q_s8((const int8_t *)xg), x1 = vld1q_s8((const int8_t *)xg1);
                int8x16_t a0 = vld1q_s8(w0), b0 = vld1q_s8(w0h), a1 = vld1q_s8(w1), b1 = vld1q_s8(w1h);
                // x0 lanes: token 0 group 2p, token 0 group 2p + 1, token 1 ..., x1 tokens 2, 3.
                acc[0][0] = SDOT(acc[0][0], a0, x0, 0);
                acc[0][1] = SDOT(acc[0][1], b0, x0, 0);
                acc[1][0] = SDOT(acc[1][0], a0, x0, 2);
                acc[1][1] = SDOT(acc[1][1], b0, x0, 2);
                acc[2][0] = SDOT(acc[2][0], a0, x1, 0);
                acc[2][1] = SDOT(acc[2][1], b0, x1, 0);
                acc[3][0] = SDOT(acc[3][0], a0, x1, 2);
                acc[3][1] = SDOT(acc[3][1], b0, x1, 2);
                acc[0][0] = SDOT(acc[0][0], a1, x0, 1);
                acc[0][1] = SDOT(acc[0][1], b1, x0, 1);
                acc[1][0] = SDOT(acc[1][0], a1, x0, 3);
                acc[1][1] = SDOT(acc[1][1], b1, x0, 3);
                acc[2][0] = SDOT(acc[2][0], a1, x1, 1);
                acc[2][1] = SDOT(acc[2][1], b1, x1, 1);
                acc[3][0] = SDOT(acc[3][0], a1, x1, 3);
                acc[3][1] = SDOT(acc[3][1], b1, x1, 3);
            }
#endif
            const float *f = (const float *)(ps + groups * 64) + 8 * hh;
            float32x4_t s0 = vld1q_f32(f), s1 = vld1q_f32(f + 4);
#define EPILOGUE(i)                                                                       \
    fa[i][0] = vfmaq_f32(fa[i][0], vcvtq_f32_s32(acc[i][0]), vmulq_laneq_f32(s0, d, i)); \
    fa[i][1] = vfmaq_f32(fa[i][1], vcvtq_f32_s32(acc[i][1]), vmulq_laneq_f32(s1, d, i));
            EPILOGUE(0) EPILOGUE(1) EPILOGUE(2) EPILOGUE(3)
#undef EPILOGUE
            if (T_HAS_MIN(type)) {
                float32x4_t m0 = vld1q_f32(f + 16), m1 = vld1q_f32(f + 20);
                float32x4_t ds = vld1q_f32((const float *)(xb + XB_DSUM) + lane0);
#define MINS(i)                                        \
    fa[i][0] = vfmsq_laneq_f32(fa[i][0], m0, ds, i); \
    fa[i][1] = vfmsq_laneq_f32(fa[i][1], m1, ds, i);
                MINS(0) MINS(1) MINS(2) MINS(3)
#undef MINS
            }
            for (int i = 0; i < 4; i++) {
                MCA_PIN(fa[i][0]);
                MCA_PIN(fa[i][1]);
            }
            MCA_MARK(END);
        }
    }
}

TARGET MVLM_INLINE void FN(gemm_typed)(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                       const uint8_t *xp, int64_t tokens, int64_t k, const float *bias, float *y,
                                       int64_t ldy, int rows16) {
    int64_t blocks = k / 32;
    uint8_t panel[CHUNK_BLOCKS * 2 * (8 * 16 * 4 + 2 * 16 * 4)] __attribute__((aligned(16)));
    for (int64_t n0 = first; n0 < last; n0 += 16) {
        int rows = (int)(last - n0 < 16 ? last - n0 : 16);
        for (int64_t b0 = 0; b0 < blocks || b0 == 0; b0 += CHUNK_BLOCKS) {
            int nb = (int)(blocks - b0 < CHUNK_BLOCKS ? blocks - b0 : CHUNK_BLOCKS);
            if (rows16)
                decode_panel_neon_rows16(type, w + (size_t)n0 * row_bytes, b0, nb, panel);
            else
                decode_panel(type, w, row_bytes, n0, rows, 16, b0, nb, 0, 0, panel);
#if KIND == 2
            zip_panel(type, panel, nb);
#endif
            for (int64_t t0 = 0; t0 < tokens; t0 += 4) {
                int mr = (int)(tokens - t0 < 4 ? tokens - t0 : 4);
                const uint8_t *xt = xp + ((t0 / QT) * blocks + b0) * XB_BYTES;
                for (int hh = 0; hh < 2 && 8 * hh < rows; hh++) {
                    int r8 = rows - 8 * hh < 8 ? rows - 8 * hh : 8;
                    int64_t n = n0 + 8 * hh;
                    float tile[4][8];
                    for (int i = 0; i < 4; i++)
                        for (int r = 0; r < 8; r++)
                            tile[i][r] = (i < mr && r < r8) ? (b0 == 0 ? (bias ? bias[n + r] : 0.0f) : y[(t0 + i) * ldy + n + r]) : 0.0f;
                    float32x4_t fa[4][2];
                    for (int i = 0; i < 4; i++) fa[i][0] = vld1q_f32(tile[i]), fa[i][1] = vld1q_f32(tile[i] + 4);
                    FN(qtile)(type, hh, (int)(t0 % QT), panel, nb, xt, fa);
                    for (int i = 0; i < 4; i++) vst1q_f32(tile[i], fa[i][0]), vst1q_f32(tile[i] + 4, fa[i][1]);
                    for (int i = 0; i < mr; i++)
                        for (int r = 0; r < r8; r++) y[(t0 + i) * ldy + n + r] = tile[i][r];
                }
            }
            if (blocks == 0) break;
        }
    }
}

TARGET static void FN(gemm)(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last, const uint8_t *xp,
                            int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy, int rows16) {
    switch (type) {
#define CASE(T, NAME)                                                                       \
    case T: {                                                                               \
        FN(gemm_typed)(T, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); \
        break;                                                                              \
    }
    CASE(T_Q4_0, q4_0) CASE(T_Q8_0, q8_0) CASE(T_Q4_K, q4_k)
    CASE(T_INT8_PC, int8_pc) CASE(T_A4_G32, affine4_g32) CASE(T_A4_G64, affine4_g64) CASE(T_A4_G128, affine4_g128)
    default: FN(gemm_typed)(T_Q6_K, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
#undef CASE
    }
}

#undef SDOT
#undef MCA_MARK
#undef MCA_PIN
