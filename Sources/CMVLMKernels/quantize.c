// Weight quantizers for conversion, byte-identical to MVLMQuant's Swift kernels (which stay the
// portable path and the reference the tests compare against): Q4_K and Q6_K super-blocks as
// llama.cpp's quantize_row_q4_K_ref / quantize_row_q6_K_ref, Q4_0 blocks as gguf-python's
// quantizer; and the two other steps of conversion's inner loop, f16 widening and the finiteness
// check.
//
// The search in both types runs on every sub-block independently, so the vector code puts one
// sub-block in each lane (8 with AVX2, 16 with AVX-512: two Q4_K super-blocks or one whole Q6_K
// super-block; 8 and 16 on arm64 NEON, as two or four q registers) and repeats the scalar
// operations in order. Contraction into FMA is turned off for
// this file: a fused multiply-add rounds once where the reference rounds twice.
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF
// The 16-lane AVX2 instantiation passes 64-byte vectors between functions of this file only, all
// compiled for the same target; the ABI note clang gives for that does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

#include "internal.h"
#include "mvlm_kernels.h"

#ifdef MVLM_X86

// ggml's nearest_int for one float.
MVLM_INLINE int32_t mvlm_nearest_int(float v) {
    float shifted = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, 4);
    return (bits & 0x007FFFFF) - 0x00400000;
}

// f32 -> f16 bits, round to nearest even (IEEE, as MVLMCore's HalfPrecision).
__attribute__((target("f16c"))) MVLM_INLINE uint16_t mvlm_f16_bits(float v) {
    return (uint16_t)_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT);
}

#define LANES 8
#define TARGET MVLM_AVX2
#define FN(name) name##_avx2
#include "quantize_body.h"
#undef LANES
#undef TARGET
#undef FN

#define LANES 16
#define TARGET MVLM_AVX512
#define FN(name) name##_avx512
#include "quantize_body.h"
#undef LANES
#undef TARGET
#undef FN

// 16 lanes on AVX2: every vector operation becomes two independent ones, which hides the latency
// of the in-order sums (two super-blocks' chains interleave).
#define LANES 16
#define TARGET MVLM_AVX2
#define FN(name) name##_avx2x2
#include "quantize_body.h"
#undef LANES
#undef TARGET
#undef FN

#endif

#ifdef MVLM_ARM
// The same body in NEON: 8 lanes (two q registers per vector) and 16 lanes (four: two Q4_K
// super-blocks or one whole Q6_K super-block per pass, independent chains interleaved). Every
// arm64 CPU has NEON; the operations are IEEE f32 as on x86, so the bytes are the same.
MVLM_INLINE int32_t mvlm_nearest_int(float v) {
    float shifted = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, 4);
    return (bits & 0x007FFFFF) - 0x00400000;
}

MVLM_INLINE uint16_t mvlm_f16_bits(float v) { return mvlm_float_to_half(v); }

#define LANES 8
#define TARGET MVLM_NEON
#define FN(name) name##_neon
#include "quantize_body.h"
#undef LANES
#undef TARGET
#undef FN

#define LANES 16
#define TARGET MVLM_NEON
#define FN(name) name##_neonx4
#include "quantize_body.h"
#undef LANES
#undef TARGET
#undef FN

// q4_0_block_avx2 in NEON (the same operations).
static void q4_0_block_neon(const float *x, uint8_t *out) {
    float32x4_t v[8], m = vdupq_n_f32(0);
    for (int k = 0; k < 8; k++) {
        v[k] = vld1q_f32(x + 4 * k);
        m = vmaxq_f32(m, vabsq_f32(v[k]));
    }
    float amax = vmaxvq_f32(m), max = x[0];
    for (int i = 0; i < 32; i++)
        if (fabsf(x[i]) == amax) {
            max = x[i];
            break;
        }
    float d = max / -8.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    uint16_t dh = mvlm_float_to_half(d);
    memcpy(out, &dh, 2);
    const float32x4_t vid = vdupq_n_f32(id), half = vdupq_n_f32(8.5f);
    const float32x4_t low = vdupq_n_f32(-1.0f), high = vdupq_n_f32((float)(1 << 20));
    uint32x4_t q[8];
    for (int k = 0; k < 8; k++) {
        float32x4_t shifted = vaddq_f32(vmulq_f32(v[k], vid), half);
        // Finite, in range: truncate; NaN / infinite / huge (1/d overflowed) lanes: 0.
        uint32x4_t valid = vandq_u32(vcltq_f32(low, shifted), vcltq_f32(shifted, high));
        float32x4_t safe = vmaxq_f32(vreinterpretq_f32_u32(vandq_u32(valid, vreinterpretq_u32_f32(shifted))), vdupq_n_f32(0));
        q[k] = vminq_u32(vreinterpretq_u32_s32(vcvtq_s32_f32(safe)), vdupq_n_u32(15));
    }
    // Byte j holds q[j] (low nibble) and q[j + 16] (high nibble).
    uint16x8_t h0 = vcombine_u16(vmovn_u32(vorrq_u32(q[0], vshlq_n_u32(q[4], 4))), vmovn_u32(vorrq_u32(q[1], vshlq_n_u32(q[5], 4))));
    uint16x8_t h1 = vcombine_u16(vmovn_u32(vorrq_u32(q[2], vshlq_n_u32(q[6], 4))), vmovn_u32(vorrq_u32(q[3], vshlq_n_u32(q[7], 4))));
    vst1q_u8(out + 2, vcombine_u8(vmovn_u16(h0), vmovn_u16(h1)));
}

static int all_finite_neon(const float *x, int64_t n) {
    const uint32x4_t exponent = vdupq_n_u32(0x7F800000);
    uint32x4_t bad = vdupq_n_u32(0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        MVLM_MCA_BEGIN("all_finite_neon");
        bad = vorrq_u32(bad, vceqq_u32(vandq_u32(vld1q_u32((const uint32_t *)(x + i)), exponent), exponent));
        MVLM_PF_PIN(bad);
        MVLM_MCA_END("all_finite_neon");
    }
    if (vmaxvq_u32(bad)) return 0;
    for (; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static void widen_f16_neon(const uint16_t *h, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        MVLM_MCA_BEGIN("widen_f16_neon");
        vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + i))));
        MVLM_MCA_END("widen_f16_neon");
    }
    for (; i < n; i++) y[i] = mvlm_half_to_float(h[i]);
}
#endif

#ifdef MVLM_X86
// One Q4_0 block the gguf-python way: d = (the first element of largest magnitude) / -8,
// id = 1/d (0 when d is 0), q = min(15, trunc(x * id + 8.5)), a non-finite x * id + 8.5 giving 0.
MVLM_AVX2 static void q4_0_block_avx2(const float *x, uint8_t *out) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4], a[4];
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(x + 8 * k);
        a[k] = _mm256_andnot_ps(sign, v[k]);
    }
    __m256 m = _mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3]));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    float amax = _mm_cvtss_f32(m4);
    __m256 am = _mm256_set1_ps(amax);
    uint32_t hits = 0;
    for (int k = 0; k < 4; k++) hits |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a[k], am, _CMP_EQ_OQ)) << (8 * k);
    float max = hits ? x[__builtin_ctz(hits)] : x[0];
    float d = max / -8.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    uint16_t dh = (uint16_t)_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    memcpy(out, &dh, 2);
    const __m256 vid = _mm256_set1_ps(id), half = _mm256_set1_ps(8.5f);
    const __m256 low = _mm256_set1_ps(-1.0f), high = _mm256_set1_ps((float)(1 << 20));
    __m256i q[4];
    for (int k = 0; k < 4; k++) {
        __m256 shifted = _mm256_add_ps(_mm256_mul_ps(v[k], vid), half);
        // Finite, in range: truncate; NaN / infinite / huge (1/d overflowed) lanes: 0.
        __m256 valid = _mm256_and_ps(_mm256_cmp_ps(low, shifted, _CMP_LT_OQ), _mm256_cmp_ps(shifted, high, _CMP_LT_OQ));
        __m256 safe = _mm256_max_ps(_mm256_and_ps(valid, shifted), _mm256_setzero_ps());
        q[k] = _mm256_min_epi32(_mm256_cvttps_epi32(safe), _mm256_set1_epi32(15));
    }
    // Byte j holds q[j] (low nibble) and q[j + 16] (high nibble).
    __m256i c0 = _mm256_or_si256(q[0], _mm256_slli_epi32(q[2], 4));
    __m256i c1 = _mm256_or_si256(q[1], _mm256_slli_epi32(q[3], 4));
    __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(c0, c1), 0xD8);
    __m128i p8 = _mm_packus_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
    _mm_storeu_si128((__m128i *)(out + 2), p8);
}

// 1 when all n floats are finite.
MVLM_AVX2 static int all_finite_avx2(const float *x, int64_t n) {
    const __m256i exponent = _mm256_set1_epi32(0x7F800000);
    __m256i bad = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i bits = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i)), exponent);
        bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(bits, exponent));
    }
    if (!_mm256_testz_si256(bad, bad)) return 0;
    for (; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

MVLM_AVX2 static void widen_f16_avx2(const uint16_t *h, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) y[i] = _cvtsh_ss(h[i]);
}
#endif

int mvlm_quantize_q4_0(const float *x, int64_t blocks, void *out) {
#ifdef MVLM_X86
    if (mvlm_kernels_level() == 0) return 0;
    uint8_t *o = (uint8_t *)out;
    for (int64_t b = 0; b < blocks; b++) q4_0_block_avx2(x + b * 32, o + b * 18);
    return 1;
#elif defined(MVLM_ARM)
    if (mvlm_kernels_level() == 0) return 0;
    uint8_t *o = (uint8_t *)out;
    for (int64_t b = 0; b < blocks; b++) q4_0_block_neon(x + b * 32, o + b * 18);
    return 1;
#else
    (void)x; (void)blocks; (void)out;
    return 0;
#endif
}

int mvlm_all_finite(const float *x, int64_t n) {
#ifdef MVLM_X86
    if (mvlm_kernels_level() >= 1) return all_finite_avx2(x, n);
#endif
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) return all_finite_neon(x, n);
#endif
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int mvlm_widen_f16(const void *h, float *y, int64_t n) {
#ifdef MVLM_X86
    if (mvlm_kernels_level() >= 1) {
        widen_f16_avx2((const uint16_t *)h, y, n);
        return 1;
    }
#endif
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) {
        widen_f16_neon((const uint16_t *)h, y, n);
        return 1;
    }
#endif
    (void)h; (void)y; (void)n;
    return 0;
}

int mvlm_quantize_q4_k(const float *x, int64_t blocks, void *out) {
#ifdef MVLM_X86
    uint8_t *o = (uint8_t *)out;
    int level = mvlm_kernels_level();
    if (level == 0) return 0;
    int64_t b = 0;
    if (level >= 2) {
        for (; b + 2 <= blocks; b += 2) q4k_blocks_avx512(x + b * 256, o + b * 144);
    } else {
        for (; b + 2 <= blocks; b += 2) q4k_blocks_avx2x2(x + b * 256, o + b * 144);
    }
    for (; b < blocks; b++) q4k_blocks_avx2(x + b * 256, o + b * 144);
    return 1;
#elif defined(MVLM_ARM)
    uint8_t *o = (uint8_t *)out;
    if (mvlm_kernels_level() == 0) return 0;
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) q4k_blocks_neonx4(x + b * 256, o + b * 144);
    for (; b < blocks; b++) q4k_blocks_neon(x + b * 256, o + b * 144);
    return 1;
#else
    (void)x; (void)blocks; (void)out;
    return 0;
#endif
}

int mvlm_quantize_q6_k(const float *x, int64_t blocks, void *out) {
#ifdef MVLM_X86
    uint8_t *o = (uint8_t *)out;
    int level = mvlm_kernels_level();
    if (level == 0) return 0;
    if (level >= 2) {
        for (int64_t b = 0; b < blocks; b++) q6k_block_avx512(x + b * 256, o + b * 210);
    } else {
        for (int64_t b = 0; b < blocks; b++) q6k_block_avx2x2(x + b * 256, o + b * 210);
    }
    return 1;
#elif defined(MVLM_ARM)
    uint8_t *o = (uint8_t *)out;
    if (mvlm_kernels_level() == 0) return 0;
    for (int64_t b = 0; b < blocks; b++) q6k_block_neonx4(x + b * 256, o + b * 210);
    return 1;
#else
    (void)x; (void)blocks; (void)out;
    return 0;
#endif
}
