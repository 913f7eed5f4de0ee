// The row-major decode dot products (mvlm_matvec_q8) for ARM64, written once and included twice by
// kernels.c: with ARM_DOT 1 for the dot-product level (SDOT: 16 int8 products summed into 4 int32
// lanes per instruction) and ARM_DOT 0 for plain NEON (SMULL / SMLAL2 into int16 lanes, then
// SADALP into int32: three instructions for the same 16 products). Lane order does not matter here
// (every lane of a row's sum is added up), so one abstraction serves both:
//   acc_t a = ACC_ZERO; ACC_DOT16(a, w, x); int32x4_t s = ACC_END(a);
// The int16 lanes of the NEON version hold at most 4 products of |w| <= 32 (Q4_0 w - 8, Q6_K q - 32)
// or nibbles <= 15 times activations |x| <= 127 between ACC_ENDs, and Q8_0 (|w| <= 128) takes an
// ACC_END after each ACC_DOT16: no int16 overflow for activations from mvlm_quantize_q8_0.
// Per block, the integer dot of 32 products becomes one f32 FMA by the block's scale product
// (vector lanes), two blocks per iteration into independent accumulators.

#if ARM_DOT
#define ARM_ATTR MVLM_DOTPROD
#define ARM_NAME(name) name##_dotprod
#define ARM_MCA(name) name "_dotprod"
#define acc_t int32x4_t
#define ACC_ZERO vdupq_n_s32(0)
#define ACC_DOT16(a, w, x) ((a) = vdotq_s32((a), (w), (x)))
#define ACC_END(a) (a)
#else
#define ARM_ATTR MVLM_NEON
#define ARM_NAME(name) name##_neon
#define ARM_MCA(name) name "_neon"
#define acc_t int16x8_t
#define ACC_ZERO vdupq_n_s16(0)
#define ACC_DOT16(a, w, x) ((a) = vmlal_high_s8(vmlal_s8((a), vget_low_s8(w), vget_low_s8(x)), (w), (x)))
#define ACC_END(a) vpaddlq_s16(a)
#endif

// Q4_0: 16 bytes of nibbles (low: weights 0-15, high: 16-31) minus 8, against 32 int8.
ARM_ATTR MVLM_INLINE int32x4_t ARM_NAME(block_q4_0)(const uint8_t *wb, const uint8_t *xb) {
    const uint8x16_t nib = vdupq_n_u8(0x0F);
    const int8x16_t eight = vdupq_n_s8(8);
    uint8x16_t v = vld1q_u8(wb + 2);
    int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, nib)), eight);
    int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), eight);
    acc_t a = ACC_ZERO;
    ACC_DOT16(a, lo, vld1q_s8((const int8_t *)xb + 2));
    ACC_DOT16(a, hi, vld1q_s8((const int8_t *)xb + 18));
    return ACC_END(a);
}

ARM_ATTR static float ARM_NAME(dot_q4_0)(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0;
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        MVLM_MCA_BEGIN(ARM_MCA("decode_q4_0_rowmajor"));
        const uint8_t *wb = w + b * 18, *xb = x + b * 34;
        int32x4_t d0 = ARM_NAME(block_q4_0)(wb, xb), d1 = ARM_NAME(block_q4_0)(wb + 18, xb + 34);
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(d0), mvlm_arm_f16(wb) * mvlm_arm_f16(xb));
        acc1 = vfmaq_n_f32(acc1, vcvtq_f32_s32(d1), mvlm_arm_f16(wb + 18) * mvlm_arm_f16(xb + 34));
        MVLM_MCA_END(ARM_MCA("decode_q4_0_rowmajor"));
    }
    if (b < blocks) {
        const uint8_t *wb = w + b * 18, *xb = x + b * 34;
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(ARM_NAME(block_q4_0)(wb, xb)), mvlm_arm_f16(wb) * mvlm_arm_f16(xb));
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

// Q8_0: 32 int8 weights against 32 int8.
ARM_ATTR MVLM_INLINE int32x4_t ARM_NAME(block_q8_0)(const uint8_t *wb, const uint8_t *xb) {
    acc_t a = ACC_ZERO, b = ACC_ZERO;
    ACC_DOT16(a, vld1q_s8((const int8_t *)wb + 2), vld1q_s8((const int8_t *)xb + 2));
    ACC_DOT16(b, vld1q_s8((const int8_t *)wb + 18), vld1q_s8((const int8_t *)xb + 18));
    return vaddq_s32(ACC_END(a), ACC_END(b));
}

ARM_ATTR static float ARM_NAME(dot_q8_0)(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0;
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        MVLM_MCA_BEGIN(ARM_MCA("decode_q8_0_rowmajor"));
        const uint8_t *wb = w + b * 34, *xb = x + b * 34;
        int32x4_t d0 = ARM_NAME(block_q8_0)(wb, xb), d1 = ARM_NAME(block_q8_0)(wb + 34, xb + 34);
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(d0), mvlm_arm_f16(wb) * mvlm_arm_f16(xb));
        acc1 = vfmaq_n_f32(acc1, vcvtq_f32_s32(d1), mvlm_arm_f16(wb + 34) * mvlm_arm_f16(xb + 34));
        MVLM_MCA_END(ARM_MCA("decode_q8_0_rowmajor"));
    }
    if (b < blocks) {
        const uint8_t *wb = w + b * 34, *xb = x + b * 34;
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(ARM_NAME(block_q8_0)(wb, xb)), mvlm_arm_f16(wb) * mvlm_arm_f16(xb));
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

// Q4_K: per super-block, the 8 six-bit scales and mins unpacked from the 12 scale bytes with 32-bit
// masks and shifts (bytes 0-3 of sc03 / m03 are sub-blocks 0-3, of sc47 / m47 sub-blocks 4-7) and
// widened to f32 lanes (UXTL, UCVTF); per pair of sub-blocks one 32-byte load of nibbles (low:
// sub-block 2p, high: 2p + 1) and 4 SDOTs. The 8 sub-blocks' dot products are folded into two
// vectors (ADDP), so the scaling is vector work per super-block: d · (sc · dx) · dot and
// dmin · (m · dx · Σx) for 4 sub-blocks per FMUL / FMLA, the 8 dx gathered by LD1 lane loads.
ARM_ATTR static float ARM_NAME(dot_q4_K)(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t superblocks) {
    const uint8x16_t nib = vdupq_n_u8(0x0F);
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0, min0 = acc0, min1 = acc0;
    for (int64_t s = 0; s < superblocks; s++) {
        MVLM_MCA_BEGIN(ARM_MCA("decode_q4_K_rowmajor"));
        const uint8_t *b = w + s * 144, *xs = x + s * 8 * 34;
        uint32_t u0 = mvlm_load32(b + 4), u1 = mvlm_load32(b + 8), u2 = mvlm_load32(b + 12);
        uint32_t sc03 = u0 & 0x3F3F3F3Fu, m03 = u1 & 0x3F3F3F3Fu;
        uint32_t sc47 = (u2 & 0x0F0F0F0Fu) | ((u0 >> 2) & 0x30303030u);
        uint32_t m47 = ((u2 >> 4) & 0x0F0F0F0Fu) | ((u1 >> 2) & 0x30303030u);
        uint16x8_t sc16 = vmovl_u8(vcreate_u8(sc03 | (uint64_t)sc47 << 32));
        uint16x8_t m16 = vmovl_u8(vcreate_u8(m03 | (uint64_t)m47 << 32));
        int32x4_t dots[8];
#pragma clang loop unroll(full)
        for (int p = 0; p < 4; p++) {
            const int8_t *xa = (const int8_t *)xs + (2 * p) * 34 + 2, *xb = xa + 34;
            uint8x16_t v0 = vld1q_u8(b + 16 + 32 * p), v1 = vld1q_u8(b + 32 + 32 * p);
            acc_t a = ACC_ZERO, c = ACC_ZERO;
            ACC_DOT16(a, vreinterpretq_s8_u8(vandq_u8(v0, nib)), vld1q_s8(xa));
            ACC_DOT16(a, vreinterpretq_s8_u8(vandq_u8(v1, nib)), vld1q_s8(xa + 16));
            ACC_DOT16(c, vreinterpretq_s8_u8(vshrq_n_u8(v0, 4)), vld1q_s8(xb));
            ACC_DOT16(c, vreinterpretq_s8_u8(vshrq_n_u8(v1, 4)), vld1q_s8(xb + 16));
            dots[2 * p] = ACC_END(a), dots[2 * p + 1] = ACC_END(c);
        }
        int32x4_t d03 = vpaddq_s32(vpaddq_s32(dots[0], dots[1]), vpaddq_s32(dots[2], dots[3]));
        int32x4_t d47 = vpaddq_s32(vpaddq_s32(dots[4], dots[5]), vpaddq_s32(dots[6], dots[7]));
        uint16x8_t dxh = vdupq_n_u16(0);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 0 * 34), dxh, 0);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 1 * 34), dxh, 1);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 2 * 34), dxh, 2);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 3 * 34), dxh, 3);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 4 * 34), dxh, 4);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 5 * 34), dxh, 5);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 6 * 34), dxh, 6);
        dxh = vld1q_lane_u16((const uint16_t *)(xs + 7 * 34), dxh, 7);
        float16x8_t dxf = vreinterpretq_f16_u16(dxh);
        float32x4_t dx03 = vcvt_f32_f16(vget_low_f16(dxf)), dx47 = vcvt_high_f32_f16(dxf);
        float32x4_t sc03f = vcvtq_f32_u32(vmovl_u16(vget_low_u16(sc16))), sc47f = vcvtq_f32_u32(vmovl_high_u16(sc16));
        float32x4_t m03f = vcvtq_f32_u32(vmovl_u16(vget_low_u16(m16))), m47f = vcvtq_f32_u32(vmovl_high_u16(m16));
        float32x4_t xs03 = vcvtq_f32_s32(vld1q_s32(xsum + s * 8)), xs47 = vcvtq_f32_s32(vld1q_s32(xsum + s * 8 + 4));
        float d = mvlm_arm_f16(b), dmin = mvlm_arm_f16(b + 2);
        acc0 = vfmaq_n_f32(acc0, vmulq_f32(vmulq_f32(sc03f, dx03), vcvtq_f32_s32(d03)), d);
        acc1 = vfmaq_n_f32(acc1, vmulq_f32(vmulq_f32(sc47f, dx47), vcvtq_f32_s32(d47)), d);
        min0 = vfmaq_n_f32(min0, vmulq_f32(vmulq_f32(m03f, dx03), xs03), dmin);
        min1 = vfmaq_n_f32(min1, vmulq_f32(vmulq_f32(m47f, dx47), xs47), dmin);
        MVLM_MCA_END(ARM_MCA("decode_q4_K_rowmajor"));
    }
    return vaddvq_f32(vsubq_f32(vaddq_f32(acc0, acc1), vaddq_f32(min0, min1)));
}

// Q6_K: per half n, ql (64 bytes) and qh (32 bytes) loaded once for its four quarters; a quarter's
// 32 weights are built with mvlm_q6_weights, minus 32, dotted per 16 (each 16 has its own int8
// scale: an integer multiply-add), then one f32 FMA by d · dx.
ARM_ATTR static float ARM_NAME(dot_q6_K)(const uint8_t *w, const uint8_t *x, int64_t superblocks) {
    const int8x16_t off = vdupq_n_s8(32);
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0;
    for (int64_t s = 0; s < superblocks; s++) {
        const uint8_t *b = w + s * 210;
        float d = mvlm_arm_f16(b + 208);
        // The 16 int8 scales as int32 lanes: sc[k] holds scales 4k .. 4k + 3 (SXTL twice).
        int8x16_t sc8 = vld1q_s8((const int8_t *)(b + 192));
        int16x8_t sl = vmovl_s8(vget_low_s8(sc8)), sh = vmovl_high_s8(sc8);
        int32x4_t sc[4] = {vmovl_s16(vget_low_s16(sl)), vmovl_high_s16(sl), vmovl_s16(vget_low_s16(sh)), vmovl_high_s16(sh)};
#pragma clang loop unroll(full)
        for (int n = 0; n < 2; n++) {
            MVLM_MCA_BEGIN(ARM_MCA("decode_q6_K_rowmajor"));
            const uint8_t *xn = x + (s * 8 + 4 * n) * 34;
            uint8x16_t ql[4], qh[2];
            for (int i = 0; i < 4; i++) ql[i] = vld1q_u8(b + 64 * n + 16 * i);
            qh[0] = vld1q_u8(b + 128 + 32 * n), qh[1] = vld1q_u8(b + 144 + 32 * n);
            // Quarter g4's scales are 8n + 2g4 and + 1: lanes (2g4) % 4, + 1 of sc[2n + g4 / 2].
#define Q6_QUARTER(g4, ACC)                                                                              \
    {                                                                                                    \
        const uint8_t *xb = xn + g4 * 34;                                                                \
        int8x16_t q0 = vsubq_s8(vreinterpretq_s8_u8(mvlm_q6_weights(ql[2 * (g4 & 1)], qh[0], g4)), off);     \
        int8x16_t q1 = vsubq_s8(vreinterpretq_s8_u8(mvlm_q6_weights(ql[2 * (g4 & 1) + 1], qh[1], g4)), off); \
        acc_t a = ACC_ZERO, c = ACC_ZERO;                                                                \
        ACC_DOT16(a, q0, vld1q_s8((const int8_t *)xb + 2));                                              \
        ACC_DOT16(c, q1, vld1q_s8((const int8_t *)xb + 18));                                             \
        int32x4_t t = vmlaq_laneq_s32(vmulq_laneq_s32(ACC_END(a), sc[2 * n + g4 / 2], (2 * g4) % 4), ACC_END(c), \
                                      sc[2 * n + g4 / 2], (2 * g4) % 4 + 1);                             \
        ACC = vfmaq_n_f32(ACC, vcvtq_f32_s32(t), d * mvlm_arm_f16(xb));                                  \
    }
            Q6_QUARTER(0, acc0) Q6_QUARTER(1, acc1) Q6_QUARTER(2, acc0) Q6_QUARTER(3, acc1)
#undef Q6_QUARTER
            MVLM_MCA_END(ARM_MCA("decode_q6_K_rowmajor"));
        }
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

ARM_ATTR static void ARM_NAME(matvec_q8)(int type, const uint8_t *rows, size_t row_bytes, int64_t first, int64_t last,
                                         const uint8_t *x, const int32_t *xsum, int64_t blocks, float *y) {
    for (int64_t r = first; r < last; r++) {
        const uint8_t *row = rows + (size_t)r * row_bytes;
        switch (type) {
        case 0: y[r] = ARM_NAME(dot_q4_0)(row, x, blocks); break;
        case 1: y[r] = ARM_NAME(dot_q8_0)(row, x, blocks); break;
        case 2: y[r] = ARM_NAME(dot_q4_K)(row, x, xsum, blocks / 8); break;
        default: y[r] = ARM_NAME(dot_q6_K)(row, x, blocks / 8); break;
        }
    }
}

#undef ARM_ATTR
#undef ARM_NAME
#undef ARM_MCA
#undef acc_t
#undef ACC_ZERO
#undef ACC_DOT16
#undef ACC_END
