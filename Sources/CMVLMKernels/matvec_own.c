// Decode (matrix x vector) for the toolkit's own weight types, against Q8_0 activations
// (mvlm_quantize_q8_0), row-major as stored (Formats/mvlm.md, docs/quantization.md):
//
// - INT8_PC (MVLM_Q8_INT8_PC): a row is its f32 scale s, then one int8 q per input; w = s · q.
//   y = s · Σ_b dx_b · Σ_{i in block b} q_i · xq_i: an exact int32 dot product per activation block
//   of 32, scaled by the block's f16 activation scale, and the row scale applied once at the end.
//   Any weight grouping that is a multiple of 32 works with per-32 activation blocks; a row scale
//   is the coarsest such grouping, so the activations keep their own per-32 scales.
// - AFFINE4_G32/G64/G128 (MVLM_Q8_AFFINE4_G32/64/128): groups of G weights, 4 + G/2 bytes: f16
//   scale s, f16 min m, then G/2 bytes (byte j: q[j] in the low nibble, q[j + G/2] in the high);
//   w = s · q + m. Activation block b (inputs 32b..32b+31) lies in group b / (G/32) and
//   Σ w x = dx_b · (s · Σ q · xq + m · Σ xq): the block sums come from mvlm_quantize_q8_0.
//   Block j of a group reads: G32 low nibbles of bytes 0-15 then high ones; G64 j = 0 low nibbles of
//   bytes 0-31, j = 1 high nibbles; G128 j = 0, 1 low nibbles of bytes 0-31, 32-63, j = 2, 3 high.
//   AFFINE4_G32 is byte-identical to GGUF Q4_1.
//
// Levels: portable C; AVX2 (VPMADDUBSW + VPMADDWD, int32 lanes per block); AVX-512 VNNI (VPDPBUSD
// on 256-bit vectors); arm64 NEON (SMULL/SADALP) and dotprod (SDOT). Every level computes each
// block's int32 dot product exactly; only the f32 scaling and summation order differ.

#include "internal.h"
#include "mvlm_kernels.h"

// Bytes of one AFFINE4 group of `g` weights.
static inline size_t affine_group_bytes(int g) { return 4 + (size_t)g / 2; }

static inline int affine_group(int type) { return type == MVLM_Q8_AFFINE4_G32 ? 32 : type == MVLM_Q8_AFFINE4_G64 ? 64 : 128; }

// The 32 unsigned nibbles of activation block j (0 ... G/32 - 1) of an AFFINE4 group's nibble bytes.
static inline void affine_block_nibbles(const uint8_t *nib, int g, int j, uint8_t q[32]) {
    for (int e = 0; e < 32; e++) {
        int within = 32 * j + e, half = g / 2;
        q[e] = within < half ? nib[within] & 0xF : nib[within - half] >> 4;
    }
}

void mvlm_own_decode_block(int type, const uint8_t *row, int64_t b, int offset128, uint32_t q[8], float *scale,
                           float *min) {
    if (type == MVLM_Q8_INT8_PC) {
        float s;
        memcpy(&s, row, 4);
        *scale = s;
        *min = 0;
        for (int g = 0; g < 8; g++) q[g] = mvlm_load32(row + 4 + (size_t)b * 32 + 4 * g) ^ (offset128 ? 0x80808080u : 0);
        return;
    }
    int gs = affine_group(type), per = gs / 32;
    const uint8_t *grp = row + (size_t)(b / per) * affine_group_bytes(gs);
    *scale = mvlm_half_to_float(mvlm_load16(grp));
    *min = -mvlm_half_to_float(mvlm_load16(grp + 2));  // the panels subtract min · d · Σx
    uint8_t n[32];
    affine_block_nibbles(grp + 4, gs, (int)(b % per), n);
    for (int g = 0; g < 8; g++) memcpy(&q[g], n + 4 * g, 4);
}

// ---- portable --------------------------------------------------------------------------------

static float dot_int8_pc_portable(const uint8_t *row, const uint8_t *x, int64_t blocks) {
    float s, sum = 0;
    memcpy(&s, row, 4);
    const int8_t *q = (const int8_t *)(row + 4);
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *xb = x + b * 34;
        int32_t dot = 0;
        for (int j = 0; j < 32; j++) dot += q[b * 32 + j] * (int8_t)xb[2 + j];
        sum += mvlm_half_to_float(mvlm_load16(xb)) * (float)dot;
    }
    return s * sum;
}

static float dot_affine4_portable(int gs, const uint8_t *row, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    int per = gs / 32;
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *grp = row + (size_t)(b / per) * affine_group_bytes(gs), *xb = x + b * 34;
        uint8_t q[32];
        affine_block_nibbles(grp + 4, gs, (int)(b % per), q);
        int32_t dot = 0;
        for (int j = 0; j < 32; j++) dot += q[j] * (int8_t)xb[2 + j];
        float dx = mvlm_half_to_float(mvlm_load16(xb));
        sum += dx * (mvlm_half_to_float(mvlm_load16(grp)) * (float)dot + mvlm_half_to_float(mvlm_load16(grp + 2)) * (float)xsum[b]);
    }
    return sum;
}

// ---- x86 -------------------------------------------------------------------------------------

#ifdef MVLM_X86
// The 32 nibbles of every activation block of an AFFINE4 group as u8 vectors (block order).
#define AFFINE_NIBBLES(GS, GRP, V)                                                                            \
    do {                                                                                                      \
        const __m256i low_ = _mm256_set1_epi8(0xF);                                                           \
        if ((GS) == 32) {                                                                                     \
            __m128i p_ = _mm_loadu_si128((const __m128i *)((GRP) + 4));                                       \
            V[0] = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(p_, 4), p_), low_);                       \
        } else if ((GS) == 64) {                                                                              \
            __m256i p_ = _mm256_loadu_si256((const __m256i *)((GRP) + 4));                                    \
            V[0] = _mm256_and_si256(p_, low_);                                                                \
            V[1] = _mm256_and_si256(_mm256_srli_epi16(p_, 4), low_);                                          \
        } else {                                                                                              \
            __m256i p0_ = _mm256_loadu_si256((const __m256i *)((GRP) + 4));                                   \
            __m256i p1_ = _mm256_loadu_si256((const __m256i *)((GRP) + 36));                                  \
            V[0] = _mm256_and_si256(p0_, low_);                                                               \
            V[1] = _mm256_and_si256(p1_, low_);                                                               \
            V[2] = _mm256_and_si256(_mm256_srli_epi16(p0_, 4), low_);                                         \
            V[3] = _mm256_and_si256(_mm256_srli_epi16(p1_, 4), low_);                                         \
        }                                                                                                     \
    } while (0)

MVLM_AVX2 static float dot_int8_pc_avx2(const uint8_t *row, const uint8_t *x, int64_t blocks) {
    float s;
    memcpy(&s, row, 4);
    const uint8_t *q = row + 4;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + b * 32)), w1 = _mm256_loadu_si256((const __m256i *)(q + b * 32 + 32));
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(x + b * 34 + 2)), x1 = _mm256_loadu_si256((const __m256i *)(x + b * 34 + 36));
        __m256i d0 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0)), ones);
        __m256i d1 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(x1, w1)), ones);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(x + b * 34))), _mm256_cvtepi32_ps(d0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(x + b * 34 + 34))), _mm256_cvtepi32_ps(d1), acc1);
    }
    for (; b < blocks; b++) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + b * 32));
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(x + b * 34 + 2));
        __m256i d0 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0)), ones);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(x + b * 34))), _mm256_cvtepi32_ps(d0), acc0);
    }
    return s * mvlm_hsum8(_mm256_add_ps(acc0, acc1));
}

MVLM_AVX2 MVLM_INLINE float dot_affine4_avx2(int gs, const uint8_t *row, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    int per = gs / 32;
    size_t gb = affine_group_bytes(gs);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t b0 = 0; b0 < blocks; b0 += per) {
        const uint8_t *grp = row + (size_t)(b0 / per) * gb;
        __m256i v[4];
        AFFINE_NIBBLES(gs, grp, v);
        float s = _cvtsh_ss(mvlm_load16(grp)), m = _cvtsh_ss(mvlm_load16(grp + 2));
        for (int j = 0; j < per; j++) {
            const uint8_t *xb = x + (b0 + j) * 34;
            __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
            __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(v[j], xq), ones);
            float dx = _cvtsh_ss(mvlm_load16(xb));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(dx * s), _mm256_cvtepi32_ps(dot), acc);
            mins += dx * m * (float)xsum[b0 + j];
        }
    }
    return mvlm_hsum8(acc) + mins;
}

MVLM_AVX512 static float dot_int8_pc_avx512(const uint8_t *row, const uint8_t *x, int64_t blocks) {
    float s;
    memcpy(&s, row, 4);
    const uint8_t *q = row + 4;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i zero = _mm256_setzero_si256();
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + b * 32)), w1 = _mm256_loadu_si256((const __m256i *)(q + b * 32 + 32));
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(x + b * 34 + 2)), x1 = _mm256_loadu_si256((const __m256i *)(x + b * 34 + 36));
        // VPDPBUSD takes unsigned x signed: |w| (128 for -128 reads as u8 128) times x with w's sign.
        __m256i d0 = _mm256_dpbusd_epi32(zero, _mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
        __m256i d1 = _mm256_dpbusd_epi32(zero, _mm256_sign_epi8(w1, w1), _mm256_sign_epi8(x1, w1));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(x + b * 34))), _mm256_cvtepi32_ps(d0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(x + b * 34 + 34))), _mm256_cvtepi32_ps(d1), acc1);
    }
    for (; b < blocks; b++) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + b * 32));
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(x + b * 34 + 2));
        __m256i d0 = _mm256_dpbusd_epi32(zero, _mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(x + b * 34))), _mm256_cvtepi32_ps(d0), acc0);
    }
    return s * mvlm_hsum8(_mm256_add_ps(acc0, acc1));
}

MVLM_AVX512 MVLM_INLINE float dot_affine4_avx512(int gs, const uint8_t *row, const uint8_t *x, const int32_t *xsum,
                                                 int64_t blocks) {
    int per = gs / 32;
    size_t gb = affine_group_bytes(gs);
    const __m256i zero = _mm256_setzero_si256();
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t b0 = 0; b0 < blocks; b0 += per) {
        const uint8_t *grp = row + (size_t)(b0 / per) * gb;
        __m256i v[4];
        AFFINE_NIBBLES(gs, grp, v);
        float s = _cvtsh_ss(mvlm_load16(grp)), m = _cvtsh_ss(mvlm_load16(grp + 2));
        for (int j = 0; j < per; j++) {
            const uint8_t *xb = x + (b0 + j) * 34;
            __m256i dot = _mm256_dpbusd_epi32(zero, v[j], _mm256_loadu_si256((const __m256i *)(xb + 2)));
            float dx = _cvtsh_ss(mvlm_load16(xb));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(dx * s), _mm256_cvtepi32_ps(dot), acc);
            mins += dx * m * (float)xsum[b0 + j];
        }
    }
    return mvlm_hsum8(acc) + mins;
}

MVLM_AVX2 static void matvec_own_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                      const uint8_t *x, const int32_t *xsum, int64_t blocks, float *y) {
    for (int64_t r = first; r < last; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        switch (type) {
        case MVLM_Q8_INT8_PC: y[r] = dot_int8_pc_avx2(row, x, blocks); break;
        case MVLM_Q8_AFFINE4_G32: y[r] = dot_affine4_avx2(32, row, x, xsum, blocks); break;
        case MVLM_Q8_AFFINE4_G64: y[r] = dot_affine4_avx2(64, row, x, xsum, blocks); break;
        default: y[r] = dot_affine4_avx2(128, row, x, xsum, blocks); break;
        }
    }
}

MVLM_AVX512 static void matvec_own_avx512(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                          const uint8_t *x, const int32_t *xsum, int64_t blocks, float *y) {
    for (int64_t r = first; r < last; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        switch (type) {
        case MVLM_Q8_INT8_PC: y[r] = dot_int8_pc_avx512(row, x, blocks); break;
        case MVLM_Q8_AFFINE4_G32: y[r] = dot_affine4_avx512(32, row, x, xsum, blocks); break;
        case MVLM_Q8_AFFINE4_G64: y[r] = dot_affine4_avx512(64, row, x, xsum, blocks); break;
        default: y[r] = dot_affine4_avx512(128, row, x, xsum, blocks); break;
        }
    }
}
#endif

// ---- arm64 -----------------------------------------------------------------------------------

#ifdef MVLM_ARM
// The nibbles of activation block j of an AFFINE4 group as two u8x16 halves (elements 0-15, 16-31).
MVLM_INLINE void affine_nibbles_neon(int gs, const uint8_t *nib, int j, uint8x16_t *lo, uint8x16_t *hi) {
    const uint8x16_t low = vdupq_n_u8(0xF);
    if (gs == 32) {
        uint8x16_t p = vld1q_u8(nib);
        *lo = vandq_u8(p, low);
        *hi = vshrq_n_u8(p, 4);
        return;
    }
    int half = gs / 2, within = 32 * j;
    const uint8_t *p = nib + (within < half ? within : within - half);
    uint8x16_t a = vld1q_u8(p), b = vld1q_u8(p + 16);
    if (within < half) {
        *lo = vandq_u8(a, low);
        *hi = vandq_u8(b, low);
    } else {
        *lo = vshrq_n_u8(a, 4);
        *hi = vshrq_n_u8(b, 4);
    }
}

// Σ of 32 int8 products: SMULL/SMLAL into int16 (|q · x| <= 128 · 127, two products per lane
// before SADALP widens: <= 32512), then SADALP into int32.
MVLM_INLINE int32_t dot32_neon(int8x16_t w0, int8x16_t w1, const int8_t *x) {
    int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
    int32x4_t acc = vdupq_n_s32(0);
    acc = vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), vget_high_s8(w0), vget_high_s8(x0)));
    acc = vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), vget_high_s8(w1), vget_high_s8(x1)));
    return vaddvq_s32(acc);
}

MVLM_DOTPROD MVLM_INLINE int32_t dot32_dotprod(int8x16_t w0, int8x16_t w1, const int8_t *x) {
    int32x4_t acc = vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(x));
    return vaddvq_s32(vdotq_s32(acc, w1, vld1q_s8(x + 16)));
}

#define MATVEC_OWN_ARM(NAME, TARGET, DOT)                                                                         \
    TARGET static void NAME(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,           \
                            const uint8_t *x, const int32_t *xsum, int64_t blocks, float *y) {                   \
        for (int64_t r = first; r < last; r++) {                                                                 \
            const uint8_t *row = w + (size_t)r * row_bytes;                                                      \
            float sum = 0;                                                                                       \
            if (type == MVLM_Q8_INT8_PC) {                                                                       \
                const int8_t *q = (const int8_t *)(row + 4);                                                     \
                float s;                                                                                         \
                memcpy(&s, row, 4);                                                                              \
                for (int64_t b = 0; b < blocks; b++) {                                                           \
                    int32_t dot = DOT(vld1q_s8(q + b * 32), vld1q_s8(q + b * 32 + 16), (const int8_t *)(x + b * 34 + 2)); \
                    sum += mvlm_arm_f16(x + b * 34) * (float)dot;                                                \
                }                                                                                                \
                y[r] = s * sum;                                                                                  \
                continue;                                                                                        \
            }                                                                                                    \
            int gs = affine_group(type), per = gs / 32;                                                          \
            for (int64_t b = 0; b < blocks; b++) {                                                               \
                const uint8_t *grp = row + (size_t)(b / per) * affine_group_bytes(gs), *xb = x + b * 34;         \
                uint8x16_t lo, hi;                                                                               \
                affine_nibbles_neon(gs, grp + 4, (int)(b % per), &lo, &hi);                                      \
                int32_t dot = DOT(vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), (const int8_t *)(xb + 2));   \
                float dx = mvlm_arm_f16(xb);                                                                     \
                sum += dx * (mvlm_arm_f16(grp) * (float)dot + mvlm_arm_f16(grp + 2) * (float)xsum[b]);           \
            }                                                                                                    \
            y[r] = sum;                                                                                          \
        }                                                                                                        \
    }

MATVEC_OWN_ARM(matvec_own_neon, , dot32_neon)
MATVEC_OWN_ARM(matvec_own_dotprod, MVLM_DOTPROD, dot32_dotprod)
#endif

void mvlm_matvec_own(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last, const uint8_t *x,
                     const int32_t *xsum, int64_t n, float *y) {
    int64_t blocks = n / 32;
    int level = mvlm_kernels_level();
#ifdef MVLM_X86
    if (level == 2) {
        matvec_own_avx512(type, w, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
    if (level == 1) {
        matvec_own_avx2(type, w, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
#endif
#ifdef MVLM_ARM
    if (level >= 2) {
        matvec_own_dotprod(type, w, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
    if (level == 1) {
        matvec_own_neon(type, w, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
#endif
    (void)level;
    for (int64_t r = first; r < last; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        y[r] = type == MVLM_Q8_INT8_PC ? dot_int8_pc_portable(row, x, blocks)
                                       : dot_affine4_portable(affine_group(type), row, x, xsum, blocks);
    }
}
