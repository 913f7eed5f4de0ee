// Decode on the rows16 layout (matvec_rows16.c) for ARM64, written once and included twice: with
// ARM_DOT 1 for the dot-product level and ARM_DOT 0 for plain NEON.
//
// A 16-byte quarter of a 64-byte rows16 line holds the same 4 weight bytes of 4 rows ("a quad"), so
// with SDOT by element (vdotq_laneq_s32(acc, w, x, lane)) one instruction adds 4 rows' 4 products
// against one activation dword: the 4 int32 lanes stay the 4 rows' partial sums, and 16 rows are 4
// independent accumulators, with no transposes or horizontal sums. Several chains per quad (low and
// high nibbles, or the two 16-weight halves of a block) keep 8 or more SDOTs in flight, which the
// in-order Cortex-A55 (SDOT latency about 4 cycles) needs. Weights are used unsigned (nibbles, Q6_K's
// q) and the offset (-8 for Q4_0, -32 for Q6_K) comes from the activations' sums (xsum16); Q8_0's
// weights are signed as stored (SDOT multiplies signed by signed, no XOR).
//
// Plain NEON has no SDOT: the same 16 weight bytes times the activation dword duplicated 4 times
// (DUP by element) are SMLAL / SMLAL2 into two int16 accumulators (rows 0-1, rows 2-3, each lane one
// row's byte position), and ACC_END folds them into per-row int32 with SADDLP and ADDP. An int16 lane
// takes at most 4 products between ACC_ENDs (|product| <= 63 · 128, or 15 · 128 for nibbles) or 2
// for Q8_0 (|w| <= 128, |x| <= 127 from mvlm_quantize_q8_0): no overflow.
//
//   acc_t a = ACC_START(off); ACC_DOT(a, w, x, lane); ...; int32x4_t rows = ACC_END(a, off);
//
// Q4_0, Q8_0 and Q6_K's group functions are kept out of `groups` (noinline): inlined together,
// the constants Q4_K's loop keeps in registers were hoisted over all four loops, and the register
// pressure cost Q4_0's and Q6_K's loops cycles (llvm-mca, docs/arm.md).

#if ARM_DOT
#define ARM_ATTR MVLM_DOTPROD
#define ARM_NAME(name) name##_dotprod
#define ARM_MCA(name) name "_dotprod"
#define acc_t int32x4_t
#define ACC_START(off) (off)
#define ACC_DOT(a, w, x, lane) ((a) = vdotq_laneq_s32((a), (w), (x), (lane)))
#define ACC_END(a, off) (a)
#else
#define ARM_ATTR MVLM_NEON
#define ARM_NAME(name) name##_neon
#define ARM_MCA(name) name "_neon"
typedef struct {
    int16x8_t l, h;
} ARM_NAME(acc16);
#define acc_t ARM_NAME(acc16)
#define ACC_START(off) ((acc_t){vdupq_n_s16(0), vdupq_n_s16(0)})
#define ACC_DOT(a, w, x, lane)                                                                \
    do {                                                                                      \
        int8x16_t xl_ = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x), lane)); \
        (a).l = vmlal_s8((a).l, vget_low_s8(w), vget_low_s8(xl_));                           \
        (a).h = vmlal_high_s8((a).h, (w), xl_);                                               \
    } while (0)
#define ACC_END(a, off) vaddq_s32(vpaddq_s32(vpaddlq_s16((a).l), vpaddlq_s16((a).h)), (off))
#endif

#define LOADW(p) vld1q_u8(p)
#define S8(v) vreinterpretq_s8_u8(v)
#define XREG(p) vld1q_s8((const int8_t *)(p))

// The 4 quads' line pointers (rec + 16q + o) and an activation block's two halves, each behind
// MVLM_OPAQUE so that no two of their loads become one LDP.
#define QUAD_BASES(P, REC, O)                                                              \
    const uint8_t *P[4] = {(REC) + (O), (REC) + (O) + 16, (REC) + (O) + 32, (REC) + (O) + 48}; \
    MVLM_OPAQUE(P[1]); MVLM_OPAQUE(P[2]); MVLM_OPAQUE(P[3])
#define X_HALVES(X0, X1, XB)                   \
    int8x16_t X0, X1;                          \
    {                                          \
        const int8_t *h_ = (const int8_t *)(XB) + 16; \
        MVLM_OPAQUE(h_);                       \
        X0 = XREG(XB), X1 = vld1q_s8(h_);      \
    }

// Q4_0: per record and quad, 4 lines; low nibbles against activations 0-15, high ones 16-31, in one
// chain of 8 SDOTs per quad starting at -8 · Σx (4 independent chains per record), scaled by d
// (4 rows' f16) · dx. Per 16 rows x 32 weights: 16 LDR, 16 AND / USHR, 32 SDOT, 4 FCVTL, 4 FMUL,
// 4 SCVTF, 4 FMLA.
ARM_ATTR __attribute__((noinline)) static void ARM_NAME(group_q4_0)(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    const uint8x16_t nib = vdupq_n_u8(0x0F);
    float32x4_t acc[4];
    for (int q = 0; q < 4; q++) acc[q] = vdupq_n_f32(0);
    for (int64_t s = 0; s < records; s++, rec += 288) {
        MVLM_MCA_BEGIN(ARM_MCA("decode_q4_0_rows16"));
        X_HALVES(x0, x1, x + s * 34 + 2)
        int32x4_t off = vdupq_n_s32(-8 * (xsum16[2 * s] + xsum16[2 * s + 1]));
        QUAD_BASES(base, rec, 32);
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) {
            const uint8_t *p = base[q];
            uint8x16_t v0 = LOADW(p), v1 = LOADW(p + 64), v2 = LOADW(p + 128), v3 = LOADW(p + 192);
            acc_t a = ACC_START(off);
            ACC_DOT(a, S8(vandq_u8(v0, nib)), x0, 0);
            ACC_DOT(a, S8(vandq_u8(v1, nib)), x0, 1);
            ACC_DOT(a, S8(vandq_u8(v2, nib)), x0, 2);
            ACC_DOT(a, S8(vandq_u8(v3, nib)), x0, 3);
            ACC_DOT(a, S8(vshrq_n_u8(v0, 4)), x1, 0);
            ACC_DOT(a, S8(vshrq_n_u8(v1, 4)), x1, 1);
            ACC_DOT(a, S8(vshrq_n_u8(v2, 4)), x1, 2);
            ACC_DOT(a, S8(vshrq_n_u8(v3, 4)), x1, 3);
            acc[q] = vfmaq_f32(acc[q], vcvtq_f32_s32(ACC_END(a, off)), vmulq_n_f32(mvlm_arm_f16x4(rec + 8 * q), xd[s]));
        }
        MVLM_MCA_END(ARM_MCA("decode_q4_0_rows16"));
    }
    for (int q = 0; q < 4; q++) vst1q_f32(y + 4 * q, acc[q]);
}

// Q8_0: per record and quad, 8 lines of signed weights: one chain of 8 SDOTs per quad (NEON: four
// chains of two, the int16 limit for |w| up to 128).
ARM_ATTR __attribute__((noinline)) static void ARM_NAME(group_q8_0)(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    const int32x4_t zero = vdupq_n_s32(0);
    float32x4_t acc[4];
    for (int q = 0; q < 4; q++) acc[q] = vdupq_n_f32(0);
    (void)xsum16;
    for (int64_t s = 0; s < records; s++, rec += 544) {
        MVLM_MCA_BEGIN(ARM_MCA("decode_q8_0_rows16"));
        X_HALVES(x0, x1, x + s * 34 + 2)
        QUAD_BASES(base, rec, 32);
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) {
            const uint8_t *p = base[q];
#if ARM_DOT
            acc_t a = ACC_START(zero);
            ACC_DOT(a, S8(LOADW(p)), x0, 0);
            ACC_DOT(a, S8(LOADW(p + 64)), x0, 1);
            ACC_DOT(a, S8(LOADW(p + 128)), x0, 2);
            ACC_DOT(a, S8(LOADW(p + 192)), x0, 3);
            ACC_DOT(a, S8(LOADW(p + 256)), x1, 0);
            ACC_DOT(a, S8(LOADW(p + 320)), x1, 1);
            ACC_DOT(a, S8(LOADW(p + 384)), x1, 2);
            ACC_DOT(a, S8(LOADW(p + 448)), x1, 3);
            int32x4_t dot = ACC_END(a, zero);
#else
            acc_t a = ACC_START(zero), b = ACC_START(zero), c = ACC_START(zero), d = ACC_START(zero);
            ACC_DOT(a, S8(LOADW(p)), x0, 0);
            ACC_DOT(b, S8(LOADW(p + 128)), x0, 2);
            ACC_DOT(c, S8(LOADW(p + 256)), x1, 0);
            ACC_DOT(d, S8(LOADW(p + 384)), x1, 2);
            ACC_DOT(a, S8(LOADW(p + 64)), x0, 1);
            ACC_DOT(b, S8(LOADW(p + 192)), x0, 3);
            ACC_DOT(c, S8(LOADW(p + 320)), x1, 1);
            ACC_DOT(d, S8(LOADW(p + 448)), x1, 3);
            int32x4_t dot = vaddq_s32(vaddq_s32(ACC_END(a, zero), ACC_END(b, zero)), vaddq_s32(ACC_END(c, zero), ACC_END(d, zero)));
#endif
            acc[q] = vfmaq_f32(acc[q], vcvtq_f32_s32(dot), vmulq_n_f32(mvlm_arm_f16x4(rec + 8 * q), xd[s]));
        }
        MVLM_MCA_END(ARM_MCA("decode_q8_0_rows16"));
    }
    for (int q = 0; q < 4; q++) vst1q_f32(y + 4 * q, acc[q]);
}

#define BYTE_LANE(v, k) mvlm_byte_lane((v), (k))

// Q4_K: per record and quad, the 8 six-bit scales and mins of each row as bytes of s03 / s47 and
// m03 / m47 (llama.cpp's get_scale_min_k4 with byte shifts and BSL), each taken to int32 lanes by
// one instruction (AND, USHR or TBL), then per pair of sub-blocks 8 lines whose low nibbles are
// sub-block 2p and high nibbles 2p + 1 (SDOT: one chain of 8 per sub-block, 8 per quad). Each
// sub-block's dot times its scale (MUL .4s, exact) is one FMA by dx, its min one FMA by dx · Σx;
// dx and dx · Σx of the 8 sub-blocks are computed once per record as four vectors and used by
// lane. Even and odd sub-blocks go to separate f32 chains (the in-order A55 waits on a chain of
// dependent FMAs), the first FMA of each a multiply.
ARM_ATTR static void ARM_NAME(group_q4_K)(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    const uint8x16_t nib = vdupq_n_u8(0x0F), six = vdupq_n_u8(0x3F);
    // TBL indices of byte 1 / byte 2 of each dword into byte 0 (the other bytes out of range: 0).
    static const uint8_t byte_index[2][16] = {{1, 255, 255, 255, 5, 255, 255, 255, 9, 255, 255, 255, 13, 255, 255, 255},
                                              {2, 255, 255, 255, 6, 255, 255, 255, 10, 255, 255, 255, 14, 255, 255, 255}};
    const uint8x16_t tbl1 = vld1q_u8(byte_index[0]), tbl2 = vld1q_u8(byte_index[1]);
    const int32x4_t zero = vdupq_n_s32(0);
    float32x4_t acc[4];
    for (int q = 0; q < 4; q++) acc[q] = vdupq_n_f32(0);
    for (int64_t s = 0; s < records; s++, rec += 2304) {
        const uint8_t *xs = x + s * 8 * 34 + 2;
        const int32_t *sums = xsum16 + s * 16;
        float32x4_t dx03 = vld1q_f32(xd + s * 8), dx47 = vld1q_f32(xd + s * 8 + 4);
        float32x4_t mf03 = vmulq_f32(dx03, vcvtq_f32_s32(vpaddq_s32(vld1q_s32(sums), vld1q_s32(sums + 4))));
        float32x4_t mf47 = vmulq_f32(dx47, vcvtq_f32_s32(vpaddq_s32(vld1q_s32(sums + 8), vld1q_s32(sums + 12))));
        for (int q = 0; q < 4; q++) {
            MVLM_MCA_BEGIN(ARM_MCA("decode_q4_K_rows16"));
            uint8x16_t q0 = LOADW(rec + 64 + 16 * q), q1 = LOADW(rec + 128 + 16 * q), q2 = LOADW(rec + 192 + 16 * q);
            uint8x16_t s03 = vandq_u8(q0, six), m03 = vandq_u8(q1, six);
            uint8x16_t s47 = vbslq_u8(nib, q2, vshrq_n_u8(q0, 2));
            uint8x16_t m47 = vbslq_u8(nib, vshrq_n_u8(q2, 4), vshrq_n_u8(q1, 2));
            float32x4_t la, lb, ma, mb;
#define Q4K_LANE(V, K) mvlm_byte_lane_tbl(vreinterpretq_u32_u8(V), (K), tbl1, tbl2)
// Scale and min of sub-blocks 2P, 2P + 1 (int32 dots DA, DB) into the f32 chains.
#define Q4K_SCALE(P, SC, MN, DX, MF, FIRST, DA, DB)                                                      \
    {                                                                                                     \
        float32x4_t ta = vcvtq_f32_s32(vmulq_s32(DA, vreinterpretq_s32_u32(Q4K_LANE(SC, (2 * (P)) % 4))));     \
        float32x4_t tb = vcvtq_f32_s32(vmulq_s32(DB, vreinterpretq_s32_u32(Q4K_LANE(SC, (2 * (P)) % 4 + 1)))); \
        float32x4_t ua = vcvtq_f32_u32(Q4K_LANE(MN, (2 * (P)) % 4)), ub = vcvtq_f32_u32(Q4K_LANE(MN, (2 * (P)) % 4 + 1)); \
        if (FIRST) {                                                                                      \
            la = vmulq_laneq_f32(ta, DX, (2 * (P)) % 4), lb = vmulq_laneq_f32(tb, DX, (2 * (P)) % 4 + 1);     \
            ma = vmulq_laneq_f32(ua, MF, (2 * (P)) % 4), mb = vmulq_laneq_f32(ub, MF, (2 * (P)) % 4 + 1);     \
        } else {                                                                                          \
            la = vfmaq_laneq_f32(la, ta, DX, (2 * (P)) % 4), lb = vfmaq_laneq_f32(lb, tb, DX, (2 * (P)) % 4 + 1); \
            ma = vfmaq_laneq_f32(ma, ua, MF, (2 * (P)) % 4), mb = vfmaq_laneq_f32(mb, ub, MF, (2 * (P)) % 4 + 1); \
        }                                                                                                 \
    }
#define Q4K_LINE(L, C, A, B, XA, XB)                                                                   \
    {                                                                                                  \
        uint8x16_t v = LOADW(L + 64 * C);                                                              \
        ACC_DOT(A, S8(vandq_u8(v, nib)), XA, (C & 3));                                                 \
        ACC_DOT(B, S8(vshrq_n_u8(v, 4)), XB, (C & 3));                                                 \
    }
#if ARM_DOT
// SDOT: pairs P and P + 1 (4 sub-blocks) side by side, one chain of 8 per sub-block: 4 chains in
// flight, which the in-order A55 (SDOT latency 4) needs.
#define Q4K_PAIRS(P, SC, MN, DX, MF, FIRST)                                                               \
    {                                                                                                     \
        X_HALVES(xa0, xa1, xs + (2 * P) * 34)                                                             \
        X_HALVES(xc0, xc1, xs + (2 * P + 1) * 34)                                                         \
        X_HALVES(xe0, xe1, xs + (2 * P + 2) * 34)                                                         \
        X_HALVES(xg0, xg1, xs + (2 * P + 3) * 34)                                                         \
        const uint8_t *l = rec + 256 + 64 * 8 * P + 16 * q, *l2 = l + 64 * 8;                             \
        int32x4_t a0 = zero, b0 = zero, a1 = zero, b1 = zero;                                             \
        Q4K_LINE(l, 0, a0, b0, xa0, xc0) Q4K_LINE(l2, 0, a1, b1, xe0, xg0)                                \
        Q4K_LINE(l, 1, a0, b0, xa0, xc0) Q4K_LINE(l2, 1, a1, b1, xe0, xg0)                                \
        Q4K_LINE(l, 2, a0, b0, xa0, xc0) Q4K_LINE(l2, 2, a1, b1, xe0, xg0)                                \
        Q4K_LINE(l, 3, a0, b0, xa0, xc0) Q4K_LINE(l2, 3, a1, b1, xe0, xg0)                                \
        Q4K_LINE(l, 4, a0, b0, xa1, xc1) Q4K_LINE(l2, 4, a1, b1, xe1, xg1)                                \
        Q4K_LINE(l, 5, a0, b0, xa1, xc1) Q4K_LINE(l2, 5, a1, b1, xe1, xg1)                                \
        Q4K_LINE(l, 6, a0, b0, xa1, xc1) Q4K_LINE(l2, 6, a1, b1, xe1, xg1)                                \
        Q4K_LINE(l, 7, a0, b0, xa1, xc1) Q4K_LINE(l2, 7, a1, b1, xe1, xg1)                                \
        Q4K_SCALE(P, SC, MN, DX, MF, FIRST, a0, b0)                                                       \
        Q4K_SCALE(P + 1, SC, MN, DX, MF, 0, a1, b1)                                                       \
    }
            Q4K_PAIRS(0, s03, m03, dx03, mf03, 1)
            Q4K_PAIRS(2, s47, m47, dx47, mf47, 0)
#else
// NEON: one pair at a time, two chains of 4 per sub-block (the int16 limit).
#define Q4K_PAIR(P, SC, MN, DX, MF, FIRST)                                                                \
    {                                                                                                     \
        X_HALVES(xa0, xa1, xs + (2 * P) * 34)                                                             \
        X_HALVES(xc0, xc1, xs + (2 * P + 1) * 34)                                                         \
        const uint8_t *l = rec + 256 + 64 * 8 * P + 16 * q;                                               \
        acc_t a0 = ACC_START(zero), a1 = ACC_START(zero), b0 = ACC_START(zero), b1 = ACC_START(zero);     \
        Q4K_LINE(l, 0, a0, b0, xa0, xc0) Q4K_LINE(l, 4, a1, b1, xa1, xc1)                                 \
        Q4K_LINE(l, 1, a0, b0, xa0, xc0) Q4K_LINE(l, 5, a1, b1, xa1, xc1)                                 \
        Q4K_LINE(l, 2, a0, b0, xa0, xc0) Q4K_LINE(l, 6, a1, b1, xa1, xc1)                                 \
        Q4K_LINE(l, 3, a0, b0, xa0, xc0) Q4K_LINE(l, 7, a1, b1, xa1, xc1)                                 \
        int32x4_t da = vaddq_s32(ACC_END(a0, zero), ACC_END(a1, zero));                                   \
        int32x4_t db = vaddq_s32(ACC_END(b0, zero), ACC_END(b1, zero));                                   \
        Q4K_SCALE(P, SC, MN, DX, MF, FIRST, da, db)                                                       \
    }
            Q4K_PAIR(0, s03, m03, dx03, mf03, 1)
            Q4K_PAIR(1, s03, m03, dx03, mf03, 0)
            Q4K_PAIR(2, s47, m47, dx47, mf47, 0)
            Q4K_PAIR(3, s47, m47, dx47, mf47, 0)
#undef Q4K_PAIR
#endif
#undef Q4K_PAIRS
#undef Q4K_SCALE
#undef Q4K_LINE
#undef Q4K_LANE
            float32x4_t a = vfmaq_f32(acc[q], mvlm_arm_f16x4(rec + 8 * q), vaddq_f32(la, lb));
            acc[q] = vfmsq_f32(a, mvlm_arm_f16x4(rec + 32 + 8 * q), vaddq_f32(ma, mb));
            MVLM_MCA_END(ARM_MCA("decode_q4_K_rows16"));
        }
    }
    for (int q = 0; q < 4; q++) vst1q_f32(y + 4 * q, acc[q]);
}

// Q6_K: per record, quad and half n, the ql / qh line pairs c = 0..7 of quarters g and g + 2 (the
// same ql line's low and high nibbles, the same qh line's bits 2g and 2g + 4) built with
// mvlm_q6_weights: four chains (2 blocks x 2 halves of 16) of 4 SDOTs, each chain starting at
// -32 · Σx of its 16 activations. A block's two halves times their int8 scales (MUL / MLA .4s,
// exact) are one FMA by dx.
ARM_ATTR __attribute__((noinline)) static void ARM_NAME(group_q6_K)(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    float32x4_t acc[4];
    for (int q = 0; q < 4; q++) acc[q] = vdupq_n_f32(0);
    for (int64_t s = 0; s < records; s++, rec += 3360) {
        const uint8_t *xs = x + s * 8 * 34 + 2;
        const float *ds = xd + s * 8;
        const int32_t *sums = xsum16 + s * 16;
        int32_t o32[16];  // each 16 weights' offset, -32 · Σx, loaded into a chain by LD1R
        for (int i = 0; i < 16; i++) o32[i] = -32 * sums[i];
        for (int q = 0; q < 4; q++) {
            MVLM_MCA_BEGIN(ARM_MCA("decode_q6_K_rows16"));
            float32x4_t local = vdupq_n_f32(0);
#define Q6_PAIR(N, G)                                                                                        \
    {                                                                                                        \
        const int g = G, kl = 4 * N + G, kh = kl + 2;                                                               \
        const uint8_t *xl = xs + kl * 34, *xh = xs + kh * 34;                                                \
        int8x16_t xl0 = XREG(xl), xl1 = XREG(xl + 16), xh0 = XREG(xh), xh1 = XREG(xh + 16);                 \
        int32x4_t ol0 = vld1q_dup_s32(o32 + 2 * kl), ol1 = vld1q_dup_s32(o32 + 2 * kl + 1);                 \
        int32x4_t oh0 = vld1q_dup_s32(o32 + 2 * kh), oh1 = vld1q_dup_s32(o32 + 2 * kh + 1);                 \
        acc_t l0 = ACC_START(ol0), l1 = ACC_START(ol1), h0 = ACC_START(oh0), h1 = ACC_START(oh1);             \
        const uint8_t *pl = rec + 64 * (16 * N + 8 * G) + 16 * q, *ph = rec + 2048 + 64 * 8 * N + 16 * q;     \
        Q6_LINE(0, l0, h0, xl0, xh0) Q6_LINE(4, l1, h1, xl1, xh1)                                          \
        Q6_LINE(1, l0, h0, xl0, xh0) Q6_LINE(5, l1, h1, xl1, xh1)                                          \
        Q6_LINE(2, l0, h0, xl0, xh0) Q6_LINE(6, l1, h1, xl1, xh1)                                          \
        Q6_LINE(3, l0, h0, xl0, xh0) Q6_LINE(7, l1, h1, xl1, xh1)                                          \
        Q6_SCALE(kl, ACC_END(l0, ol0), ACC_END(l1, ol1))                                                     \
        Q6_SCALE(kh, ACC_END(h0, oh0), ACC_END(h1, oh1))                                                     \
    }
#define Q6_LINE(C, L, H, XL, XH)                                                                            \
    {                                                                                                       \
        uint8x16_t v = LOADW(pl + 64 * C), h = LOADW(ph + 64 * C);                                          \
        ACC_DOT(L, S8(mvlm_q6_weights(v, h, g)), XL, (C & 3));                                              \
        ACC_DOT(H, S8(mvlm_q6_weights(v, h, g + 2)), XH, (C & 3));                                          \
    }
// Scales of sub-blocks 2k, 2k + 1: bytes (2k) % 4 and (2k) % 4 + 1 of scale dword k / 2, sign-extended.
#define Q6_SCALE(K, D0, D1)                                                                                 \
    {                                                                                                       \
        int32x4_t w = vreinterpretq_s32_u8(LOADW(rec + 3072 + 64 * ((K) / 2) + 16 * q));                    \
        int32x4_t s0 = (K) % 2 ? vshrq_n_s32(vshlq_n_s32(w, 8), 24) : vshrq_n_s32(vshlq_n_s32(w, 24), 24);  \
        int32x4_t s1 = (K) % 2 ? vshrq_n_s32(w, 24) : vshrq_n_s32(vshlq_n_s32(w, 16), 24);                  \
        int32x4_t t = vmlaq_s32(vmulq_s32(D0, s0), D1, s1);                                                \
        local = vfmaq_n_f32(local, vcvtq_f32_s32(t), ds[K]);                                                \
    }
            Q6_PAIR(0, 0) Q6_PAIR(0, 1) Q6_PAIR(1, 0) Q6_PAIR(1, 1)
#undef Q6_SCALE
#undef Q6_LINE
#undef Q6_PAIR
            acc[q] = vfmaq_f32(acc[q], mvlm_arm_f16x4(rec + 3328 + 8 * q), local);
            MVLM_MCA_END(ARM_MCA("decode_q6_K_rows16"));
        }
    }
    for (int q = 0; q < 4; q++) vst1q_f32(y + 4 * q, acc[q]);
}

ARM_ATTR static void ARM_NAME(groups)(int type, const uint8_t *base, int64_t first, int64_t last, int64_t records,
                                      int64_t group_bytes, const uint8_t *x, const float *xd, const int32_t *xsum16,
                                      float *y) {
    for (int64_t g = first; g < last; g++) {
        const uint8_t *rec = base + (size_t)g * (size_t)group_bytes;
        switch (type) {
        case 0: ARM_NAME(group_q4_0)(rec, records, x, xd, xsum16, y + g * 16); break;
        case 1: ARM_NAME(group_q8_0)(rec, records, x, xd, xsum16, y + g * 16); break;
        case 2: ARM_NAME(group_q4_K)(rec, records, x, xd, xsum16, y + g * 16); break;
        default: ARM_NAME(group_q6_K)(rec, records, x, xd, xsum16, y + g * 16); break;
        }
    }
}

#undef BYTE_LANE
#undef QUAD_BASES
#undef X_HALVES
#undef LOADW
#undef S8
#undef XREG
#undef ARM_ATTR
#undef ARM_NAME
#undef ARM_MCA
#undef acc_t
#undef ACC_START
#undef ACC_DOT
#undef ACC_END
