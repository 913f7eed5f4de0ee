// Decode's matrix x vector for f32, f16 and bf16 weights: y[n] = Σ_j w[n, j] · x[j] for rows
// [first, last), widened in registers (F16C's vcvtph2ps; bf16 a 16-bit shift). AVX-512 reads one
// row at a time with four independent sums; AVX2 four rows at a time (one load of x for the four).
// Memory-bound: every weight byte is read once and never stored. (On Zen 4 the two orders measured
// the same, 23-24 GB/s of f16 weights on two threads.)

#include "internal.h"
#include "mvlm_kernels.h"

static inline float widen(int type, const void *w, int64_t i) {
    switch (type) {
    case MVLM_WEIGHT_F16: return mvlm_half_to_float(((const uint16_t *)w)[i]);
    case MVLM_WEIGHT_BF16: return mvlm_bf16_to_float(((const uint16_t *)w)[i]);
    default: return ((const float *)w)[i];
    }
}

static void rows_portable(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *x, int64_t k,
                          float *y) {
    for (int64_t n = first; n < last; n++) {
        float s = 0;
        for (int64_t j = 0; j < k; j++) s += widen(type, w, n * ldw + j) * x[j];
        y[n] = s;
    }
}

#ifdef MVLM_X86
MVLM_AVX512 MVLM_INLINE __m512 load16_avx512(int type, const void *w, int64_t i, __mmask16 m) {
    if (type == MVLM_WEIGHT_F16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i));
    if (type == MVLM_WEIGHT_BF16)
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i)), 16));
    return _mm512_maskz_loadu_ps(m, (const float *)w + i);
}

MVLM_AVX512 MVLM_INLINE void rows_avx512_t(int type, const void *w, int64_t ldw, int64_t first, int64_t last,
                                           const float *x, int64_t k, float *y) {
    // One row at a time, read front to back with four independent sums.
    int64_t k64 = k / 64 * 64;
    for (int64_t n = first; n < last; n++) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int64_t base = n * ldw, j = 0;
        for (; j < k64; j += 64) {
            a0 = _mm512_fmadd_ps(load16_avx512(type, w, base + j, 0xFFFF), _mm512_loadu_ps(x + j), a0);
            a1 = _mm512_fmadd_ps(load16_avx512(type, w, base + j + 16, 0xFFFF), _mm512_loadu_ps(x + j + 16), a1);
            a2 = _mm512_fmadd_ps(load16_avx512(type, w, base + j + 32, 0xFFFF), _mm512_loadu_ps(x + j + 32), a2);
            a3 = _mm512_fmadd_ps(load16_avx512(type, w, base + j + 48, 0xFFFF), _mm512_loadu_ps(x + j + 48), a3);
        }
        for (; j < k; j += 16) {
            __mmask16 m = k - j >= 16 ? 0xFFFF : (__mmask16)((1u << (k - j)) - 1);
            a0 = _mm512_fmadd_ps(load16_avx512(type, w, base + j, m), _mm512_maskz_loadu_ps(m, x + j), a0);
        }
        y[n] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
}

// Calls FN with the element type a constant (one copy of the loops per type).
#define BY_WEIGHT_TYPE(FN)                                                                \
    switch (type) {                                                                       \
    case MVLM_WEIGHT_F16: FN(MVLM_WEIGHT_F16, w, ldw, first, last, x, k, y); break;       \
    case MVLM_WEIGHT_BF16: FN(MVLM_WEIGHT_BF16, w, ldw, first, last, x, k, y); break;     \
    default: FN(MVLM_WEIGHT_F32, w, ldw, first, last, x, k, y); break;                    \
    }

MVLM_AVX512 static void rows_avx512(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *x,
                                    int64_t k, float *y) {
    BY_WEIGHT_TYPE(rows_avx512_t)
}

MVLM_AVX2 MVLM_INLINE __m256 load8_avx2(int type, const void *w, int64_t i) {
    if (type == MVLM_WEIGHT_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i)));
    if (type == MVLM_WEIGHT_BF16)
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i))), 16));
    return _mm256_loadu_ps((const float *)w + i);
}

MVLM_AVX2 MVLM_INLINE void rows_avx2_t(int type, const void *w, int64_t ldw, int64_t first, int64_t last,
                                       const float *x, int64_t k, float *y) {
    int64_t k8 = k / 8 * 8, n = first;
    for (; n + 4 <= last; n += 4) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t j = 0; j < k8; j += 8) {
            __m256 xv = _mm256_loadu_ps(x + j);
            a0 = _mm256_fmadd_ps(load8_avx2(type, w, n * ldw + j), xv, a0);
            a1 = _mm256_fmadd_ps(load8_avx2(type, w, (n + 1) * ldw + j), xv, a1);
            a2 = _mm256_fmadd_ps(load8_avx2(type, w, (n + 2) * ldw + j), xv, a2);
            a3 = _mm256_fmadd_ps(load8_avx2(type, w, (n + 3) * ldw + j), xv, a3);
        }
        float s0 = mvlm_hsum8(a0), s1 = mvlm_hsum8(a1), s2 = mvlm_hsum8(a2), s3 = mvlm_hsum8(a3);
        for (int64_t j = k8; j < k; j++) {
            s0 += widen(type, w, n * ldw + j) * x[j];
            s1 += widen(type, w, (n + 1) * ldw + j) * x[j];
            s2 += widen(type, w, (n + 2) * ldw + j) * x[j];
            s3 += widen(type, w, (n + 3) * ldw + j) * x[j];
        }
        y[n] = s0, y[n + 1] = s1, y[n + 2] = s2, y[n + 3] = s3;
    }
    for (; n < last; n++) {
        __m256 a = _mm256_setzero_ps();
        for (int64_t j = 0; j < k8; j += 8) a = _mm256_fmadd_ps(load8_avx2(type, w, n * ldw + j), _mm256_loadu_ps(x + j), a);
        float s = mvlm_hsum8(a);
        for (int64_t j = k8; j < k; j++) s += widen(type, w, n * ldw + j) * x[j];
        y[n] = s;
    }
}

MVLM_AVX2 static void rows_avx2(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *x,
                                int64_t k, float *y) {
    BY_WEIGHT_TYPE(rows_avx2_t)
}
#endif

#ifdef MVLM_ARM
// ARM64, every level: one row at a time, 16 weights per iteration into four independent FMLA .4s
// chains (FMLA latency 4 on the big cores, so four in flight keep one per cycle), widened in
// registers: f16 by FCVTL / FCVTL2 (ARMv8.0 conversions, exact), bf16 by USHLL / USHLL2 #16. The
// last k % 16 weights are added one by one.
MVLM_INLINE void load16_neon(int type, const void *w, int64_t i, float32x4_t *v) {
    if (type == MVLM_WEIGHT_F32) {
        const float *p = (const float *)w + i;
        v[0] = vld1q_f32(p), v[1] = vld1q_f32(p + 4), v[2] = vld1q_f32(p + 8), v[3] = vld1q_f32(p + 12);
    } else if (type == MVLM_WEIGHT_F16) {
        const uint16_t *p = (const uint16_t *)w + i;
        float16x8_t a = vreinterpretq_f16_u16(vld1q_u16(p)), b = vreinterpretq_f16_u16(vld1q_u16(p + 8));
        v[0] = vcvt_f32_f16(vget_low_f16(a)), v[1] = vcvt_high_f32_f16(a);
        v[2] = vcvt_f32_f16(vget_low_f16(b)), v[3] = vcvt_high_f32_f16(b);
    } else {
        const uint16_t *p = (const uint16_t *)w + i;
        uint16x8_t a = vld1q_u16(p), b = vld1q_u16(p + 8);
        v[0] = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(a), 16)), v[1] = vreinterpretq_f32_u32(vshll_high_n_u16(a, 16));
        v[2] = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(b), 16)), v[3] = vreinterpretq_f32_u32(vshll_high_n_u16(b, 16));
    }
}

MVLM_INLINE void rows_neon_t(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *x,
                             int64_t k, float *y) {
    int64_t k16 = k / 16 * 16;
    for (int64_t n = first; n < last; n++) {
        float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
        int64_t base = n * ldw;
        for (int64_t j = 0; j < k16; j += 16) {
            MVLM_MCA_BEGIN("decode_float_neon");
            float32x4_t v[4];
            load16_neon(type, w, base + j, v);
            a0 = vfmaq_f32(a0, v[0], vld1q_f32(x + j));
            a1 = vfmaq_f32(a1, v[1], vld1q_f32(x + j + 4));
            a2 = vfmaq_f32(a2, v[2], vld1q_f32(x + j + 8));
            a3 = vfmaq_f32(a3, v[3], vld1q_f32(x + j + 12));
            MVLM_MCA_END("decode_float_neon");
        }
        float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
        for (int64_t j = k16; j < k; j++) s += widen(type, w, base + j) * x[j];
        y[n] = s;
    }
}

static void rows_neon(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *x, int64_t k,
                      float *y) {
    switch (type) {
    case MVLM_WEIGHT_F16: rows_neon_t(MVLM_WEIGHT_F16, w, ldw, first, last, x, k, y); break;
    case MVLM_WEIGHT_BF16: rows_neon_t(MVLM_WEIGHT_BF16, w, ldw, first, last, x, k, y); break;
    default: rows_neon_t(MVLM_WEIGHT_F32, w, ldw, first, last, x, k, y); break;
    }
}
#endif

void mvlm_matvec_float(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *x, int64_t k,
                       float *y) {
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) {
        rows_neon(type, w, ldw, first, last, x, k, y);
        return;
    }
#endif
#ifdef MVLM_X86
    int level = mvlm_kernels_level();
    if (level == 2) {
        rows_avx512(type, w, ldw, first, last, x, k, y);
        return;
    }
    if (level == 1) {
        rows_avx2(type, w, ldw, first, last, x, k, y);
        return;
    }
#endif
    rows_portable(type, w, ldw, first, last, x, k, y);
}
