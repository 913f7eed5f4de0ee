// The row-major decode dot products of Q5_0, Q4_1 and Q5_1 (mvlm_matvec_legacy) for ARM64, written once
// and included twice by matvec_legacy.c: ARM_DOT 1 for the dot-product level (SDOT), ARM_DOT 0 for
// plain NEON (SMULL / SMLAL2 into int16 lanes, then SADDLP into int32), as matvec_q8_arm_body.h.
// The int16 lanes hold at most 4 products per block: |w| <= 16 (Q5_0's q - 16) or 15 (Q4_1's q)
// times |x| <= 127, at most 8128; Q5_1's q <= 31: at most 15748. No overflow.

#if ARM_DOT
#define LG_ATTR MVLM_DOTPROD
#define LG_NAME(name) name##_dotprod
#define lg_acc_t int32x4_t
#define LG_ZERO vdupq_n_s32(0)
#define LG_DOT16(a, w, x) ((a) = vdotq_s32((a), (w), (x)))
#define LG_END(a) (a)
#else
#define LG_ATTR MVLM_NEON
#define LG_NAME(name) name##_neon
#define lg_acc_t int16x8_t
#define LG_ZERO vdupq_n_s16(0)
#define LG_DOT16(a, w, x) ((a) = vmlal_high_s8(vmlal_s8((a), vget_low_s8(w), vget_low_s8(x)), (w), (x)))
#define LG_END(a) vpaddlq_s16(a)
#endif

// Q5_0: byte j of the result is 0xF0 where bit j of the 16 bits `bits` is clear, else 0. OR-ed
// into a nibble n it gives the int8 n - 16 (fifth bit clear) or n (set): q - 16 either way.
LG_ATTR MVLM_INLINE int8x16_t LG_NAME(lg_q5_0_half)(uint8x16_t nibbles, uint32_t bits) {
    static const uint8_t mask_bytes[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t spread = vcombine_u8(vdup_n_u8((uint8_t)bits), vdup_n_u8((uint8_t)(bits >> 8)));
    uint8x16_t set = vtstq_u8(spread, vld1q_u8(mask_bytes));
    return vreinterpretq_s8_u8(vorrq_u8(nibbles, vbicq_u8(vdupq_n_u8(0xF0), set)));
}

LG_ATTR MVLM_INLINE int32x4_t LG_NAME(lg_block_q5_0)(const uint8_t *wb, const uint8_t *xb) {
    uint32_t qh = mvlm_load32(wb + 2);
    uint8x16_t v = vld1q_u8(wb + 6);
    int8x16_t lo = LG_NAME(lg_q5_0_half)(vandq_u8(v, vdupq_n_u8(0x0F)), qh & 0xFFFF);
    int8x16_t hi = LG_NAME(lg_q5_0_half)(vshrq_n_u8(v, 4), qh >> 16);
    lg_acc_t a = LG_ZERO;
    LG_DOT16(a, lo, vld1q_s8((const int8_t *)xb + 2));
    LG_DOT16(a, hi, vld1q_s8((const int8_t *)xb + 18));
    return LG_END(a);
}

// Q4_1: the nibbles 0...15 as they are (the min is applied per block in f32).
LG_ATTR MVLM_INLINE int32x4_t LG_NAME(lg_block_q4_1)(const uint8_t *wb, const uint8_t *xb) {
    uint8x16_t v = vld1q_u8(wb + 4);
    int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F)));
    int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
    lg_acc_t a = LG_ZERO;
    LG_DOT16(a, lo, vld1q_s8((const int8_t *)xb + 2));
    LG_DOT16(a, hi, vld1q_s8((const int8_t *)xb + 18));
    return LG_END(a);
}

// Q5_1: q = nibble | fifth bit << 4 (0...31), unsigned; the min is applied per block in f32.
LG_ATTR MVLM_INLINE int8x16_t LG_NAME(lg_q5_1_half)(uint8x16_t nibbles, uint32_t bits) {
    static const uint8_t mask_bytes[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t spread = vcombine_u8(vdup_n_u8((uint8_t)bits), vdup_n_u8((uint8_t)(bits >> 8)));
    uint8x16_t set = vtstq_u8(spread, vld1q_u8(mask_bytes));
    return vreinterpretq_s8_u8(vorrq_u8(nibbles, vandq_u8(set, vdupq_n_u8(0x10))));
}

LG_ATTR MVLM_INLINE int32x4_t LG_NAME(lg_block_q5_1)(const uint8_t *wb, const uint8_t *xb) {
    uint32_t qh = mvlm_load32(wb + 4);
    uint8x16_t v = vld1q_u8(wb + 8);
    int8x16_t lo = LG_NAME(lg_q5_1_half)(vandq_u8(v, vdupq_n_u8(0x0F)), qh & 0xFFFF);
    int8x16_t hi = LG_NAME(lg_q5_1_half)(vshrq_n_u8(v, 4), qh >> 16);
    lg_acc_t a = LG_ZERO;
    LG_DOT16(a, lo, vld1q_s8((const int8_t *)xb + 2));
    LG_DOT16(a, hi, vld1q_s8((const int8_t *)xb + 18));
    return LG_END(a);
}

LG_ATTR static float LG_NAME(lg_dot_q5_0)(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0;
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *wb = w + b * 22, *xb = x + b * 34;
        int32x4_t d0 = LG_NAME(lg_block_q5_0)(wb, xb), d1 = LG_NAME(lg_block_q5_0)(wb + 22, xb + 34);
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(d0), mvlm_arm_f16(wb) * mvlm_arm_f16(xb));
        acc1 = vfmaq_n_f32(acc1, vcvtq_f32_s32(d1), mvlm_arm_f16(wb + 22) * mvlm_arm_f16(xb + 34));
    }
    if (b < blocks) {
        const uint8_t *wb = w + b * 22, *xb = x + b * 34;
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(LG_NAME(lg_block_q5_0)(wb, xb)), mvlm_arm_f16(wb) * mvlm_arm_f16(xb));
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

// Q4_1 (20-byte blocks) or Q5_1 (24): the integer part by `q5`'s block function, then d · dx and
// the min term m · dx · Σx per block.
LG_ATTR MVLM_INLINE float LG_NAME(lg_dot_min)(int q5, const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    const int size = q5 ? 24 : 20;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = acc0;
    float mins = 0;
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *wb = w + b * size, *xb = x + b * 34;
        int32x4_t d0 = q5 ? LG_NAME(lg_block_q5_1)(wb, xb) : LG_NAME(lg_block_q4_1)(wb, xb);
        int32x4_t d1 = q5 ? LG_NAME(lg_block_q5_1)(wb + size, xb + 34) : LG_NAME(lg_block_q4_1)(wb + size, xb + 34);
        float dx0 = mvlm_arm_f16(xb), dx1 = mvlm_arm_f16(xb + 34);
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(d0), mvlm_arm_f16(wb) * dx0);
        acc1 = vfmaq_n_f32(acc1, vcvtq_f32_s32(d1), mvlm_arm_f16(wb + size) * dx1);
        mins += mvlm_arm_f16(wb + 2) * dx0 * (float)xsum[b] + mvlm_arm_f16(wb + size + 2) * dx1 * (float)xsum[b + 1];
    }
    if (b < blocks) {
        const uint8_t *wb = w + b * size, *xb = x + b * 34;
        float dx = mvlm_arm_f16(xb);
        acc0 = vfmaq_n_f32(acc0, vcvtq_f32_s32(q5 ? LG_NAME(lg_block_q5_1)(wb, xb) : LG_NAME(lg_block_q4_1)(wb, xb)), mvlm_arm_f16(wb) * dx);
        mins += mvlm_arm_f16(wb + 2) * dx * (float)xsum[b];
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1)) + mins;
}

LG_ATTR static void LG_NAME(lg_matvec)(int type, const uint8_t *rows, size_t row_bytes, int64_t first, int64_t last,
                                       const uint8_t *x, const int32_t *xsum, int64_t blocks, float *y) {
    for (int64_t r = first; r < last; r++) {
        const uint8_t *row = rows + (size_t)r * row_bytes;
        if (type == MVLM_LEGACY_Q5_0)
            y[r] = LG_NAME(lg_dot_q5_0)(row, x, blocks);
        else if (type == MVLM_LEGACY_Q4_1)
            y[r] = LG_NAME(lg_dot_min)(0, row, x, xsum, blocks);
        else
            y[r] = LG_NAME(lg_dot_min)(1, row, x, xsum, blocks);
    }
}

#undef LG_ATTR
#undef LG_NAME
#undef lg_acc_t
#undef LG_ZERO
#undef LG_DOT16
#undef LG_END
