// Helpers shared by the kernel files (not part of the module's public header).
#ifndef MVLM_KERNELS_INTERNAL_H
#define MVLM_KERNELS_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define MVLM_X86 1
#include <immintrin.h>
// Function attributes for the vector paths; callers check mvlm_kernels_level() first.
#define MVLM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define MVLM_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c")))
#define MVLM_MAX_LEVEL 2
#elif defined(__aarch64__) || defined(_M_ARM64)
// ARM64 levels (mvlm_kernels_level): 1 NEON (ARMv8.0, every arm64 CPU), 2 also the dot-product
// extension (ARMv8.2 SDOT/UDOT), 3 also the int8 matrix multiply (ARMv8.6 SMMLA/USMMLA). Each
// level's functions carry its target attribute (clang's spelling; the package's C is built by
// clang on every platform), so one binary runs on any arm64 CPU; callers check the level first.
// FP16 arithmetic (ARMv8.2 FEAT_FP16) is a separate feature: mvlm_arm_has_fp16().
#define MVLM_ARM 1
#include <arm_neon.h>
#define MVLM_NEON
#define MVLM_DOTPROD __attribute__((target("dotprod")))
#define MVLM_I8MM __attribute__((target("dotprod,i8mm")))
#define MVLM_FP16 __attribute__((target("fullfp16")))
#define MVLM_MAX_LEVEL 3
int mvlm_arm_has_fp16(void);
#else
#define MVLM_MAX_LEVEL 0
#endif

#define MVLM_INLINE static inline __attribute__((always_inline))

// The toolkit's own types (matvec_own.c): decode's rows for mvlm_matvec_q8 (types MVLM_Q8_INT8_PC and
// up), and one 32-input block of one row for gemm_q8.c's panels: q[8] the 32 weights as 4-byte groups
// (INT8_PC signed, xor 0x80 when offset128; AFFINE4 unsigned nibbles), *scale the multiplier and
// *min the term subtracted per unit of d · Σx (minus AFFINE4's min, 0 for INT8_PC).
void mvlm_matvec_own(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last, const uint8_t *x,
                     const int32_t *xsum, int64_t n, float *y);
void mvlm_own_decode_block(int type, const uint8_t *row, int64_t b, int offset128, uint32_t q[8], float *scale,
                           float *min);

// Q4_K's 6-bit scale and min of sub-block j from a row's 12 scale bytes (llama.cpp's
// get_scale_min_k4).
static inline void mvlm_scale_min_k4(const uint8_t *q, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

#ifdef MVLM_X86
// Q4_K's 6-bit scale and min of sub-block j (llama.cpp's get_scale_min_k4) for 16 rows at once
// (8 with AVX2): q0, q1, q2 hold bytes 0-3, 4-7 and 8-11 of each row's 12 scale bytes, one row per
// int32 lane.
MVLM_AVX512 MVLM_INLINE void mvlm_q4k_scale_min16(__m512i q0, __m512i q1, __m512i q2, int j, __m512i *sc, __m512i *m) {
    const __m512i six = _mm512_set1_epi32(63), four = _mm512_set1_epi32(15), two = _mm512_set1_epi32(3);
    if (j < 4) {
        *sc = _mm512_and_si512(_mm512_srli_epi32(q0, 8 * j), six);
        *m = _mm512_and_si512(_mm512_srli_epi32(q1, 8 * j), six);
    } else {
        int b = 8 * (j - 4);
        *sc = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(q2, b), four),
                              _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(q0, b + 6), two), 4));
        *m = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(q2, b + 4), four),
                             _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(q1, b + 6), two), 4));
    }
}

MVLM_AVX2 MVLM_INLINE void mvlm_q4k_scale_min8(__m256i q0, __m256i q1, __m256i q2, int j, __m256i *sc, __m256i *m) {
    const __m256i six = _mm256_set1_epi32(63), four = _mm256_set1_epi32(15), two = _mm256_set1_epi32(3);
    if (j < 4) {
        *sc = _mm256_and_si256(_mm256_srli_epi32(q0, 8 * j), six);
        *m = _mm256_and_si256(_mm256_srli_epi32(q1, 8 * j), six);
    } else {
        int b = 8 * (j - 4);
        *sc = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(q2, b), four),
                              _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(q0, b + 6), two), 4));
        *m = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(q2, b + 4), four),
                             _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(q1, b + 6), two), 4));
    }
}
#endif

// ---- f16 <-> f32, exact, portable ------------------------------------------------------------

static inline float mvlm_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalize
            int shift = 0;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
            mantissa &= 0x3FF;
            bits = sign | ((uint32_t)(127 - 15 - shift + 1) << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t mvlm_float_to_half(float f) {  // round to nearest even
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t abs = x & 0x7FFFFFFF;
    if (abs >= 0x7F800000) return (uint16_t)(sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0));
    if (abs >= 0x477FF000) return (uint16_t)(sign | 0x7C00);  // rounds to infinity
    if (abs < 0x38800000) {  // subnormal or zero in f16
        float magnitude;
        memcpy(&magnitude, &abs, 4);
        uint32_t q = (uint32_t)lrintf(magnitude * 16777216.0f);  // units of 2^-24, even rounding
        return (uint16_t)(sign | q);
    }
    uint32_t mantissa = abs & 0x7FFFFF, exponent = (abs >> 23) - 112;
    uint32_t half = (exponent << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

static inline float mvlm_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t mvlm_load16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline uint32_t mvlm_load32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void mvlm_store32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

// Q8_0 of one block of 32 floats, for decode's (kernels.c) and prefill's (gemm_q8.c) activations
// alike: d = max|v| / 127, q = roundf(v · (1 / d)) (half away from zero; 1 / d taken as 0 when d
// is 0). A product that is not below 128 in magnitude (an infinite 1 / d, for blocks under about
// 1e-37, or NaN input) gives q = 0, as MVLMQuant's reference and numpy's cast on x86 do. Returns d
// (f32; the block stores it rounded to f16). The vector versions below and in kernels.c repeat
// the same float operations, so every level writes the same bytes.
static inline float mvlm_q8_block(const float *v, int8_t *q) {
    float amax = 0;
    for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    for (int i = 0; i < 32; i++) {
        float t = v[i] * id;
        q[i] = fabsf(t) < 128 ? (int8_t)roundf(t) : 0;
    }
    return d;
}

#ifdef MVLM_X86
// Vector e^x (softmax in attention.c, SiLU in elementwise.c): Cephes' expf coefficients after
// reduction by ln 2, within 2 ulp of expf over x in [-87.3, 0] (lower x is clamped there).
// e^x for x <= 0 (x >= -87.3 after clamping): 2^n · p(r), r = x - n ln 2.
#define EXP_BODY(V, SET1, ADD, MUL, FMA, MAX, ROUND, CVT)                                       \
    x = MAX(x, SET1(-87.3f));                                                                  \
    V n = ROUND(MUL(x, SET1(1.44269504088896341f)));                                           \
    V r = FMA(n, SET1(-0.693359375f), x);                                                      \
    r = FMA(n, SET1(2.12194440e-4f), r);                                                       \
    V p = SET1(1.9875691500e-4f);                                                              \
    p = FMA(p, r, SET1(1.3981999507e-3f));                                                     \
    p = FMA(p, r, SET1(8.3334519073e-3f));                                                     \
    p = FMA(p, r, SET1(4.1665795894e-2f));                                                     \
    p = FMA(p, r, SET1(1.6666665459e-1f));                                                     \
    p = FMA(p, r, SET1(5.0000001201e-1f));                                                     \
    p = FMA(p, MUL(r, r), ADD(r, SET1(1.0f)));

MVLM_AVX2 MVLM_INLINE __m256 exp_avx2(__m256 x) {
#define R8(v) _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
    EXP_BODY(__m256, _mm256_set1_ps, _mm256_add_ps, _mm256_mul_ps, _mm256_fmadd_ps, _mm256_max_ps, R8, _)
#undef R8
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

MVLM_AVX512 MVLM_INLINE __m512 exp_avx512(__m512 x) {
#define R16(v) _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
    EXP_BODY(__m512, _mm512_set1_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_fmadd_ps, _mm512_max_ps, R16, _)
#undef R16
    return _mm512_scalef_ps(p, n);
}

// roundf for |t| < 128 (other lanes, NaN among them, give 0): truncate, then step away from zero
// when the dropped part is at least 1/2 (t - trunc(t) is exact there).
MVLM_AVX2 MVLM_INLINE __m256i mvlm_round_away8(__m256 t) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    t = _mm256_and_ps(t, _mm256_cmp_ps(_mm256_andnot_ps(sign, t), _mm256_set1_ps(128.0f), _CMP_LT_OQ));
    __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(t, r));
    __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(t, sign));
    return _mm256_cvtps_epi32(_mm256_add_ps(r, _mm256_and_ps(up, one)));
}

// mvlm_q8_block in AVX2: returns the 32 q as int8 in input order, *d the scale.
MVLM_AVX2 MVLM_INLINE __m256i mvlm_q8_block8(const float *v, float *d) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 x[4], m = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
        x[i] = _mm256_loadu_ps(v + 8 * i);
        m = _mm256_max_ps(_mm256_andnot_ps(sign, x[i]), m);  // keeps m where |x| is NaN, as fmaxf
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    *d = _mm_cvtss_f32(h) / 127.0f;
    __m256 id = _mm256_set1_ps(*d != 0 ? 1.0f / *d : 0.0f);
    __m256i q[4];
    for (int i = 0; i < 4; i++) q[i] = mvlm_round_away8(_mm256_mul_ps(x[i], id));
    // int32 -> int8 (within ±127: the packs never saturate); the permute undoes the packs' lane
    // interleave.
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// The sum of a ymm register's 8 floats.
MVLM_AVX2 MVLM_INLINE float mvlm_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

#ifdef MVLM_ARM
// ---- ARM decode helpers (matvec_*.c, kernels.c) ----------------------------------------------

// Region markers for llvm-mca (docs/arm.md): compiled with -DMVLM_MCA, each marked inner loop body
// is a named region of the assembly; otherwise they are nothing. clang -S prints them on AArch64 as
// `// LLVM-MCA-BEGIN name` (its comment syntax), and llvm-mca 16 finds regions there only in `#`
// comments: rewrite with sed 's|// LLVM-MCA|# LLVM-MCA|' before running it.
#ifdef MVLM_MCA
#define MVLM_MCA_BEGIN(name) __asm__ volatile("# LLVM-MCA-BEGIN " name)
#define MVLM_MCA_END(name) __asm__ volatile("# LLVM-MCA-END")
#else
#define MVLM_MCA_BEGIN(name)
#define MVLM_MCA_END(name)
#endif

// Hides a pointer's origin from the compiler (no instruction): loads through it are not merged with
// loads through the pointer it was computed from into LDP of q registers, which the Cortex-A55
// issues at a third of the rate of two LDRs (LLVM's A55 model: 6 cycles against 2 x 1); on the big
// cores the two forms cost the same.
#define MVLM_OPAQUE(p) __asm__("" : "+r"(p))

// An f16 at any 2-byte address, widened exactly (FCVT: ARMv8.0 has half-precision conversions).
MVLM_INLINE float mvlm_arm_f16(const uint8_t *p) {
    __fp16 h;
    memcpy(&h, p, 2);
    return (float)h;
}

// 4 consecutive f16 values widened to f32.
MVLM_INLINE float32x4_t mvlm_arm_f16x4(const uint8_t *p) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))); }

// Q6_K's 6-bit weights (0..63, the -32 not applied) of quarter g4 (0..3) from 16 bytes of ql and
// of qh (llama.cpp's layout: quarters 0/1 take the low nibbles, 2/3 the high ones, and qh bits
// 2·g4, 2·g4 + 1 as bits 4-5). SLI / SRI insert one operand's shifted bits under the other's:
// two or three instructions per 16 weights. `g4` must be a constant after inlining.
MVLM_INLINE uint8x16_t mvlm_q6_weights(uint8x16_t ql, uint8x16_t qh, int g4) {
    const uint8x16_t six = vdupq_n_u8(0x3F);
    switch (g4) {
    case 0: return vandq_u8(vsliq_n_u8(ql, qh, 4), six);                     // ql & 15 | qh << 4
    case 1: return vandq_u8(vsliq_n_u8(ql, vshrq_n_u8(qh, 2), 4), six);      // ql & 15 | qh >> 2 << 4
    case 2: return vandq_u8(vsriq_n_u8(qh, ql, 4), six);                     // qh & 0xF0 | ql >> 4
    default: return vsriq_n_u8(vshrq_n_u8(qh, 2), ql, 4);                    // (qh >> 2) & 0xF0 | ql >> 4
    }
}

// The Q8_0 block quantizer (mvlm_q8_block's float operations, lane by lane): max|v| by compare and
// select (a NaN |v| never replaces the maximum, as with fmaxf), the same scalar d and 1 / d, FMUL,
// then FCVTAS (round to nearest, ties away from zero: roundf) masked to 0 where |t| >= 128 or t is
// NaN (FACLT is false there). Writes the 32 q; returns d.
MVLM_INLINE float mvlm_q8_block_neon(const float *v, int8_t *q) {
    float32x4_t x[8];
    float32x4_t m = vdupq_n_f32(0);
    for (int i = 0; i < 8; i++) {
        x[i] = vld1q_f32(v + 4 * i);
        float32x4_t a = vabsq_f32(x[i]);
        m = vbslq_f32(vcgtq_f32(a, m), a, m);
    }
    float d = vmaxvq_f32(m) / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    const float32x4_t limit = vdupq_n_f32(128.0f);
    int16x8_t h[4];
    for (int i = 0; i < 4; i++) {
        float32x4_t t0 = vmulq_n_f32(x[2 * i], id), t1 = vmulq_n_f32(x[2 * i + 1], id);
        int32x4_t q0 = vandq_s32(vcvtaq_s32_f32(t0), vreinterpretq_s32_u32(vcaltq_f32(t0, limit)));
        int32x4_t q1 = vandq_s32(vcvtaq_s32_f32(t1), vreinterpretq_s32_u32(vcaltq_f32(t1, limit)));
        h[i] = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
    }
    vst1q_s8(q, vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1])));
    vst1q_s8(q + 16, vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3])));
    return d;
}


// ---- ARM prefill / elementwise helpers (gemm_*.c, attention.c, elementwise.c, quantize.c) -----

// Q8_0 of one block of 32 floats in NEON, the same float operations as mvlm_q8_block (so the
// same bytes): max |v| (maxnm skips NaN as fmaxf does), d = max / 127, id = 1 / d (0 for d = 0),
// q = round-half-away(v · id) (FRINTA is roundf), 0 where |v · id| is not below 128 (NaN too).
// Returns d; q[0..15] in *lo, q[16..31] in *hi.
MVLM_INLINE float mvlm_pf_q8_block(const float *v, int8x16_t *lo, int8x16_t *hi) {
    float32x4_t x[8], m = vdupq_n_f32(0);
    for (int i = 0; i < 8; i++) {
        x[i] = vld1q_f32(v + 4 * i);
        m = vmaxnmq_f32(m, vabsq_f32(x[i]));
    }
    float d = vmaxvq_f32(m) / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    float32x4_t vid = vdupq_n_f32(id), limit = vdupq_n_f32(128.0f);
    int16x8_t h[4];
    for (int i = 0; i < 4; i++) {
        int32x4_t q2[2];
        for (int j = 0; j < 2; j++) {
            float32x4_t t = vmulq_f32(x[2 * i + j], vid);
            uint32x4_t ok = vcaltq_f32(t, limit);
            q2[j] = vandq_s32(vcvtq_s32_f32(vrndaq_f32(t)), vreinterpretq_s32_u32(ok));
        }
        h[i] = vcombine_s16(vmovn_s32(q2[0]), vmovn_s32(q2[1]));
    }
    *lo = vcombine_s8(vmovn_s16(h[0]), vmovn_s16(h[1]));
    *hi = vcombine_s8(vmovn_s16(h[2]), vmovn_s16(h[3]));
    return d;
}

// e^x for x <= 0 in NEON (softmax, SiLU, quick-GELU): Cephes' expf polynomial after reduction by
// ln 2, the same operations as the x86 EXP_BODY (within 2 ulp of expf over [-87.3, 0]; lower x is
// clamped there). NaN stays NaN (FMAXNM would drop it: the clamp uses FMAX, which keeps it).
MVLM_INLINE float32x4_t mvlm_pf_exp4(float32x4_t x) {
    x = vmaxq_f32(x, vdupq_n_f32(-87.3f));
    float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmaq_f32(x, n, vdupq_n_f32(-0.693359375f));
    r = vfmaq_f32(r, n, vdupq_n_f32(2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

// The llvm-mca region markers (MVLM_MCA_BEGIN / _END) are defined above, with the decode helpers.

// With markers, pins a register value before an end marker so that the compiler cannot sink the
// region's work past it (nothing otherwise).
#ifdef MVLM_MCA
#define MVLM_PF_PIN(v) __asm__ volatile("" : "+w"(v))
#else
#define MVLM_PF_PIN(v)
#endif

#endif

#endif
