// IQ4_NL weights (GGUF type 20): blocks of 32 weights, 18 bytes: f16 d, then 16 bytes of 4-bit
// indices (byte j: index of weight j in the low nibble, of weight j + 16 in the high one) into the
// fixed grid kvalues (ggml's kvalues_iq4nl); weight = d · kvalues[index].
//
// Decode (mvlm_matvec_iq4nl): rows against Q8_0 activations (mvlm_quantize_q8_0), one exact int32
// dot product per block, scaled by both f16 scales in f32, as llama.cpp's CPU backend does:
// - portable: a table lookup per weight;
// - AVX2: the 16-entry grid in both 128-bit lanes of a register and one VPSHUFB turns 32 indices
//   into 32 signed weights; |w| · (x with w's sign) by VPMADDUBSW + VPMADDWD (|w| ≤ 127, so a pair
//   is at most 2 · 127 · 127 = 32258 and never saturates);
// - AVX-512 VNNI: the lookup gives w + 128 (unsigned) and VPDPBUSD sums (w + 128) · x from an
//   accumulator started at -128 · Σx (the block sum mvlm_quantize_q8_0 writes): exact;
// four rows share each activation load;
// - arm64 NEON / dotprod: VQTBL1Q_S8 lookup, SMULL/SMLAL2 or SDOT (bitwise level 0's result).
// Prefill (mvlm_gemm_iq4nl): an IQ4_NL block is exactly a Q8_0 block (same f16 d, int8 q =
// kvalues[index], -127...113), so each thread rewrites 16 rows at a time as Q8_0 into its scratch
// buffer and runs mvlm_gemm_q8's Q8_0 kernels on it (exact integer dot products at every level).

#include "internal.h"
#include "mvlm_kernels.h"

static const int8_t kvalues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

void mvlm_iq4nl_to_q8_0(const void *src, int64_t blocks, void *dst) {
    const uint8_t *s = (const uint8_t *)src;
    uint8_t *d = (uint8_t *)dst;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *sb = s + b * 18;
        uint8_t *db = d + b * 34;
        db[0] = sb[0];
        db[1] = sb[1];
        for (int j = 0; j < 16; j++) {
            db[2 + j] = (uint8_t)kvalues[sb[2 + j] & 0xF];
            db[18 + j] = (uint8_t)kvalues[sb[2 + j] >> 4];
        }
    }
}

static float dot_portable(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 18, *xb = x + b * 34;
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            s += (int32_t)kvalues[wb[2 + j] & 0xF] * (int8_t)xb[2 + j];
            s += (int32_t)kvalues[wb[2 + j] >> 4] * (int8_t)xb[18 + j];
        }
        sum += mvlm_half_to_float(mvlm_load16(wb)) * mvlm_half_to_float(mvlm_load16(xb)) * (float)s;
    }
    return sum;
}

#ifdef MVLM_X86
// The 32 indices of a block in weight order (low nibbles, then high nibbles).
MVLM_AVX2 MVLM_INLINE __m256i indices32(const uint8_t *wb) {
    __m128i packed = _mm_loadu_si128((const __m128i *)(wb + 2));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0xF));
}

MVLM_AVX2 MVLM_INLINE float half2(const uint8_t *a, const uint8_t *b) {
    __m128 h = _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, 0, 0, (short)mvlm_load16(b), (short)mvlm_load16(a)));
    return _mm_cvtss_f32(h) * _mm_cvtss_f32(_mm_shuffle_ps(h, h, 1));
}

// Four rows at once: y[i] for rows w[i] (i < count).
MVLM_AVX2 static void dot4_avx2(const uint8_t *const w[4], int count, const uint8_t *x, int64_t blocks, float *y) {
    const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kvalues));
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *xb = x + b * 34;
        __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
        for (int i = 0; i < count; i++) {
            const uint8_t *wb = w[i] + b * 18;
            __m256i q = _mm256_shuffle_epi8(table, indices32(wb));
            __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(xq, q)), ones);
            acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(half2(wb, xb)), _mm256_cvtepi32_ps(p), acc[i]);
        }
    }
    for (int i = 0; i < count; i++) y[i] = mvlm_hsum8(acc[i]);
}

MVLM_AVX512 static void dot4_avx512(const uint8_t *const w[4], int count, const uint8_t *x, const int32_t *xsum, int64_t blocks,
                                    float *y) {
    // kvalues + 128 as unsigned bytes.
    const __m256i table = _mm256_xor_si256(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kvalues)),
                                           _mm256_set1_epi8((char)0x80));
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *xb = x + b * 34;
        __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
        __m256i start = _mm256_setr_epi32(-128 * xsum[b], 0, 0, 0, 0, 0, 0, 0);
        float dx = _cvtsh_ss(mvlm_load16(xb));
        for (int i = 0; i < count; i++) {
            const uint8_t *wb = w[i] + b * 18;
            __m256i u = _mm256_shuffle_epi8(table, indices32(wb));
            __m256i p = _mm256_dpbusd_epi32(start, u, xq);
            acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb)) * dx), _mm256_cvtepi32_ps(p), acc[i]);
        }
    }
    for (int i = 0; i < count; i++) y[i] = mvlm_hsum8(acc[i]);
}
#endif

#ifdef MVLM_ARM
// arm64: VQTBL1Q_S8 turns 16 indices into 16 signed weights; the block's integer dot product is
// exact (NEON: SMULL + SMLAL2 pairs in int16, |sum| ≤ 2 · 127 · 127, then SADDLP; dotprod: SDOT),
// and the float epilogue is the portable one's, so both levels give level 0's floats bit for bit.
MVLM_INLINE void lookup_arm(const uint8_t *wb, int8x16_t *lo, int8x16_t *hi) {
    const int8x16_t table = vld1q_s8(kvalues);
    uint8x16_t packed = vld1q_u8(wb + 2);
    *lo = vqtbl1q_s8(table, vandq_u8(packed, vdupq_n_u8(0xF)));
    *hi = vqtbl1q_s8(table, vshrq_n_u8(packed, 4));
}

static float dot_neon(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 18, *xb = x + b * 34;
        int8x16_t lo, hi;
        lookup_arm(wb, &lo, &hi);
        int8x16_t x0 = vld1q_s8((const int8_t *)(xb + 2)), x1 = vld1q_s8((const int8_t *)(xb + 18));
        int16x8_t a = vmlal_high_s8(vmull_s8(vget_low_s8(lo), vget_low_s8(x0)), lo, x0);
        int16x8_t c = vmlal_high_s8(vmull_s8(vget_low_s8(hi), vget_low_s8(x1)), hi, x1);
        int32_t s = vaddvq_s32(vaddq_s32(vpaddlq_s16(a), vpaddlq_s16(c)));
        sum += mvlm_half_to_float(mvlm_load16(wb)) * mvlm_half_to_float(mvlm_load16(xb)) * (float)s;
    }
    return sum;
}

MVLM_DOTPROD static float dot_dotprod(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 18, *xb = x + b * 34;
        int8x16_t lo, hi;
        lookup_arm(wb, &lo, &hi);
        int32x4_t acc = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8((const int8_t *)(xb + 2)));
        acc = vdotq_s32(acc, hi, vld1q_s8((const int8_t *)(xb + 18)));
        sum += mvlm_half_to_float(mvlm_load16(wb)) * mvlm_half_to_float(mvlm_load16(xb)) * (float)vaddvq_s32(acc);
    }
    return sum;
}
#endif

void mvlm_matvec_iq4nl(const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xq, const int32_t *xsum,
                       int64_t n, float *y) {
    const uint8_t *rows = (const uint8_t *)w, *x = (const uint8_t *)xq;
    int64_t blocks = n / 32;
    int level = mvlm_kernels_level();
#ifdef MVLM_X86
    if (level >= 1) {
        for (int64_t r = first; r < last; r += 4) {
            int count = last - r < 4 ? (int)(last - r) : 4;
            const uint8_t *w4[4];
            for (int i = 0; i < 4; i++) w4[i] = rows + (size_t)(r + (i < count ? i : 0)) * row_bytes;
            if (level >= 2 && xsum)
                dot4_avx512(w4, count, x, xsum, blocks, y + r);
            else
                dot4_avx2(w4, count, x, blocks, y + r);
        }
        return;
    }
#endif
#ifdef MVLM_ARM
    if (level >= 1) {
        for (int64_t r = first; r < last; r++)
            y[r] = level >= 2 ? dot_dotprod(rows + (size_t)r * row_bytes, x, blocks) : dot_neon(rows + (size_t)r * row_bytes, x, blocks);
        return;
    }
#endif
    (void)level;
    (void)xsum;
    for (int64_t r = first; r < last; r++) y[r] = dot_portable(rows + (size_t)r * row_bytes, x, blocks);
}

int64_t mvlm_gemm_iq4nl_scratch_bytes(int64_t k) { return 16 * (k / 32) * 34; }

void mvlm_gemm_iq4nl(const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp, int64_t tokens, int64_t k,
                     const float *bias, float *y, int64_t ldy, void *scratch) {
    int64_t blocks = k / 32;
    size_t q8_row = (size_t)blocks * 34;
    uint8_t *buffer = (uint8_t *)scratch;
    for (int64_t n0 = first; n0 < last; n0 += 16) {
        int64_t rows = last - n0 < 16 ? last - n0 : 16;
        for (int64_t r = 0; r < rows; r++)
            mvlm_iq4nl_to_q8_0((const uint8_t *)w + (size_t)(n0 + r) * row_bytes, blocks, buffer + (size_t)r * q8_row);
        mvlm_gemm_q8(1, buffer, q8_row, 0, rows, xp, tokens, k, bias ? bias + n0 : NULL, y + n0, ldy);
    }
}
