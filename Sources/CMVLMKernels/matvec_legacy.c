// Kernels for llama.cpp's legacy block types Q5_0, Q4_1 and Q5_1 (mvlm_matvec_legacy,
// mvlm_gemm_legacy), on the stored row-major blocks.
//
// Decode: one row at a time, one integer dot product of 32 weights per block against the token's
// Q8_0 activations (mvlm_quantize_q8_0), then one f32 FMA by the two blocks' scales, as kernels.c's
// Q4_0. Q5_0's fifth bits (a 32-bit mask per block) become bytes by a byte shuffle and a bit test
// (x86) or a duplicate and CMTST (arm64); Q5_1 is Q4_1 with those fifth bits. Q4_1's and Q5_1's
// min m adds m · dx · Σq per block (Σq, the block's
// activation sum, from mvlm_quantize_q8_0). Levels: portable C; x86 AVX2 (VPMADDUBSW + VPMADDWD),
// AVX-512 VNNI (VPDPBUSD on 256-bit vectors); arm64 NEON and dotprod (legacy_arm_body.h; i8mm runs
// the dotprod code, as mvlm_matvec_q8 does).
//
// Prefill: the three types hold their weights exactly as Q8_0 blocks of the same scale (Q5_0's
// q - 16 is in -16...15, Q4_1's q in 0...15, Q5_1's in 0...31), so a tile of rows is rewritten as Q8_0 blocks into the caller's
// scratch and multiplied by mvlm_gemm_q8's Q8_0 kernel (every level, x86 and arm64), which reads
// the tile from L2. Q4_1's and Q5_1's min term, Σ_b m_b · dx_b · Σq_b per token, is added in f32 after it.
#include "mvlm_kernels.h"

#include "internal.h"

#include <stdlib.h>

// ---- portable --------------------------------------------------------------------------------

static float dot_q5_0_portable(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 22, *xb = x + b * 34;
        uint32_t qh = mvlm_load32(wb + 2);
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (wb[6 + j] & 0xF) | (int)(((qh >> j) & 1) << 4);
            int hi = (wb[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            s += (lo - 16) * (int8_t)xb[2 + j] + (hi - 16) * (int8_t)xb[18 + j];
        }
        sum += mvlm_half_to_float(mvlm_load16(wb)) * mvlm_half_to_float(mvlm_load16(xb)) * (float)s;
    }
    return sum;
}

static float dot_q4_1_portable(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 20, *xb = x + b * 34;
        int32_t s = 0;
        for (int j = 0; j < 16; j++) s += (wb[4 + j] & 0xF) * (int8_t)xb[2 + j] + (wb[4 + j] >> 4) * (int8_t)xb[18 + j];
        float dx = mvlm_half_to_float(mvlm_load16(xb));
        sum += mvlm_half_to_float(mvlm_load16(wb)) * dx * (float)s + mvlm_half_to_float(mvlm_load16(wb + 2)) * dx * (float)xsum[b];
    }
    return sum;
}

static float dot_q5_1_portable(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 24, *xb = x + b * 34;
        uint32_t qh = mvlm_load32(wb + 4);
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (wb[8 + j] & 0xF) | (int)(((qh >> j) & 1) << 4);
            int hi = (wb[8 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            s += lo * (int8_t)xb[2 + j] + hi * (int8_t)xb[18 + j];
        }
        float dx = mvlm_half_to_float(mvlm_load16(xb));
        sum += mvlm_half_to_float(mvlm_load16(wb)) * dx * (float)s + mvlm_half_to_float(mvlm_load16(wb + 2)) * dx * (float)xsum[b];
    }
    return sum;
}

// ---- x86 -------------------------------------------------------------------------------------

#ifdef MVLM_X86
// Q5_0's 32 weights as int8 q - 16 in input order: the nibbles (low: 0-15, high: 16-31), and 0xF0
// OR-ed in where the fifth bit is clear (n | 0xF0 is n - 16 as int8).
MVLM_AVX2 MVLM_INLINE __m256i q5_signed_at(const uint8_t *wb, int bits_at, __m256i *bit_set) {
    uint32_t qh = mvlm_load32(wb + bits_at);
    __m128i packed = _mm_loadu_si128((const __m128i *)(wb + bits_at + 4));
    __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3,
                                            3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);  // byte j: byte j / 8 of qh
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
    *bit_set = set;  // 0xFF where the fifth bit is set
    return _mm256_or_si256(nib, _mm256_andnot_si256(set, _mm256_set1_epi8((char)0xF0)));
}

MVLM_AVX2 MVLM_INLINE __m256i q5_0_signed(const uint8_t *wb, __m256i *bit_set) { return q5_signed_at(wb, 2, bit_set); }

// Q5_1's 32 weights q (0...31) as u8 in input order (fifth bits at byte 4, nibbles at 8).
MVLM_AVX2 MVLM_INLINE __m256i q5_1_unsigned(const uint8_t *wb) {
    __m256i set;
    __m256i q = q5_signed_at(wb, 4, &set);
    return _mm256_or_si256(_mm256_and_si256(q, _mm256_set1_epi8(0x0F)), _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
}

MVLM_AVX2 static float dot_q5_1_avx2(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 24, *xb = x + b * 34;
        __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
        // q <= 31 times |x| <= 127, pairs within int16.
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q5_1_unsigned(wb), xq), ones);
        float dx = _cvtsh_ss(mvlm_load16(xb));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb)) * dx), _mm256_cvtepi32_ps(p), acc);
        mins += _cvtsh_ss(mvlm_load16(wb + 2)) * dx * (float)xsum[b];
    }
    return mvlm_hsum8(acc) + mins;
}

MVLM_AVX2 static float dot_q5_0_avx2(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 22, *xb = x + b * 34;
        __m256i set;
        __m256i q = q5_0_signed(wb, &set);
        __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
        // |q| (unsigned) times x with q's sign: exact (|q| <= 16, pairs within int16).
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(xq, q)), ones);
        float s = _cvtsh_ss(mvlm_load16(wb)) * _cvtsh_ss(mvlm_load16(xb));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(s), _mm256_cvtepi32_ps(p), acc);
    }
    return mvlm_hsum8(acc);
}

MVLM_AVX2 static float dot_q4_1_avx2(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i ones = _mm256_set1_epi16(1), low = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 20, *xb = x + b * 34;
        __m128i packed = _mm_loadu_si128((const __m128i *)(wb + 4));
        __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low);
        __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q, xq), ones);
        float dx = _cvtsh_ss(mvlm_load16(xb));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb)) * dx), _mm256_cvtepi32_ps(p), acc);
        mins += _cvtsh_ss(mvlm_load16(wb + 2)) * dx * (float)xsum[b];
    }
    return mvlm_hsum8(acc) + mins;
}

// AVX-512 VNNI: VPDPBUSD takes unsigned weights times signed activations in one instruction. Q5_0
// uses q (0...31) and starts lane 0 at -16 · Σx (exact in int32); Q4_1 its nibbles as they are.
// Two blocks per iteration into independent accumulators.
MVLM_AVX512 MVLM_INLINE __m256i q5_0_unsigned(const uint8_t *wb) {
    __m256i set;
    __m256i q = q5_0_signed(wb, &set);
    // q - 16 | ... back to the nibble, plus 16 where the bit is set.
    __m256i nib = _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
    return _mm256_or_si256(nib, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
}

MVLM_AVX512 static float dot_q5_0_avx512(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {
        const uint8_t *wb = w + b * 22, *xb = x + b * 34;
        __m256i p0 = _mm256_dpbusd_epi32(_mm256_zextsi128_si256(_mm_cvtsi32_si128(-16 * xsum[b])), q5_0_unsigned(wb),
                                         _mm256_loadu_si256((const __m256i *)(xb + 2)));
        __m256i p1 = _mm256_dpbusd_epi32(_mm256_zextsi128_si256(_mm_cvtsi32_si128(-16 * xsum[b + 1])), q5_0_unsigned(wb + 22),
                                         _mm256_loadu_si256((const __m256i *)(xb + 36)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb)) * _cvtsh_ss(mvlm_load16(xb))), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb + 22)) * _cvtsh_ss(mvlm_load16(xb + 34))),
                               _mm256_cvtepi32_ps(p1), acc1);
    }
    if (b < blocks) {
        const uint8_t *wb = w + b * 22, *xb = x + b * 34;
        __m256i p = _mm256_dpbusd_epi32(_mm256_zextsi128_si256(_mm_cvtsi32_si128(-16 * xsum[b])), q5_0_unsigned(wb),
                                        _mm256_loadu_si256((const __m256i *)(xb + 2)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb)) * _cvtsh_ss(mvlm_load16(xb))), _mm256_cvtepi32_ps(p), acc0);
    }
    return mvlm_hsum8(_mm256_add_ps(acc0, acc1));
}

MVLM_AVX512 static float dot_q4_1_avx512(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    float mins = 0;
    const __m256i low = _mm256_set1_epi8(0x0F);
    int64_t b = 0;
    for (; b < blocks; b++) {
        const uint8_t *wb = w + b * 20, *xb = x + b * 34;
        __m128i packed = _mm_loadu_si128((const __m128i *)(wb + 4));
        __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low);
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q, _mm256_loadu_si256((const __m256i *)(xb + 2)));
        float dx = _cvtsh_ss(mvlm_load16(xb));
        __m256 term = _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb)) * dx), _mm256_cvtepi32_ps(p));
        if (b & 1)
            acc1 = _mm256_add_ps(acc1, term);
        else
            acc0 = _mm256_add_ps(acc0, term);
        mins += _cvtsh_ss(mvlm_load16(wb + 2)) * dx * (float)xsum[b];
    }
    return mvlm_hsum8(_mm256_add_ps(acc0, acc1)) + mins;
}

MVLM_AVX512 static float dot_q5_1_avx512(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    float mins = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 24, *xb = x + b * 34;
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q5_1_unsigned(wb), _mm256_loadu_si256((const __m256i *)(xb + 2)));
        float dx = _cvtsh_ss(mvlm_load16(xb));
        __m256 term = _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(mvlm_load16(wb)) * dx), _mm256_cvtepi32_ps(p));
        if (b & 1)
            acc1 = _mm256_add_ps(acc1, term);
        else
            acc0 = _mm256_add_ps(acc0, term);
        mins += _cvtsh_ss(mvlm_load16(wb + 2)) * dx * (float)xsum[b];
    }
    return mvlm_hsum8(_mm256_add_ps(acc0, acc1)) + mins;
}
#endif

// ---- arm64 -----------------------------------------------------------------------------------

#ifdef MVLM_ARM
#define ARM_DOT 1
#include "legacy_arm_body.h"
#undef ARM_DOT
#define ARM_DOT 0
#include "legacy_arm_body.h"
#undef ARM_DOT
#endif

void mvlm_matvec_legacy(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xq,
                        const int32_t *xsum, int64_t n, float *y) {
    const uint8_t *rows = (const uint8_t *)w, *x = (const uint8_t *)xq;
    int64_t blocks = n / 32;
    int level = mvlm_kernels_level();
#ifdef MVLM_ARM
    if (level >= 2) {
        lg_matvec_dotprod(type, rows, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
    if (level == 1) {
        lg_matvec_neon(type, rows, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
#endif
    for (int64_t r = first; r < last; r++) {
        const uint8_t *row = rows + (size_t)r * row_bytes;
#ifdef MVLM_X86
        if (level == 2) {
            y[r] = type == MVLM_LEGACY_Q5_0   ? dot_q5_0_avx512(row, x, xsum, blocks)
                   : type == MVLM_LEGACY_Q4_1 ? dot_q4_1_avx512(row, x, xsum, blocks)
                                              : dot_q5_1_avx512(row, x, xsum, blocks);
            continue;
        }
        if (level == 1) {
            y[r] = type == MVLM_LEGACY_Q5_0   ? dot_q5_0_avx2(row, x, blocks)
                   : type == MVLM_LEGACY_Q4_1 ? dot_q4_1_avx2(row, x, xsum, blocks)
                                              : dot_q5_1_avx2(row, x, xsum, blocks);
            continue;
        }
#endif
        y[r] = type == MVLM_LEGACY_Q5_0   ? dot_q5_0_portable(row, x, blocks)
               : type == MVLM_LEGACY_Q4_1 ? dot_q4_1_portable(row, x, xsum, blocks)
                                          : dot_q5_1_portable(row, x, xsum, blocks);
    }
    (void)level;
}

// ---- prefill ---------------------------------------------------------------------------------

enum { LEGACY_TILE = 64 };  // rows rewritten as Q8_0 per mvlm_gemm_q8 call (a multiple of its 16-row panels)

int64_t mvlm_gemm_legacy_scratch_bytes(int64_t k) { return LEGACY_TILE * (k / 32) * (34 + 4); }

void mvlm_legacy_activation_sums(const float *x, int64_t tokens, int64_t k, float *sums) {
    int8_t q[32];
    int64_t blocks = k / 32;
    for (int64_t t = 0; t < tokens; t++) {
        for (int64_t b = 0; b < blocks; b++) {
            float d = mvlm_half_to_float(mvlm_float_to_half(mvlm_q8_block(x + t * k + b * 32, q)));
            int32_t s = 0;
            for (int i = 0; i < 32; i++) s += q[i];
            sums[t * blocks + b] = d * (float)s;
        }
    }
}

// One row of Q5_0, Q4_1 or Q5_1 blocks as Q8_0 blocks (the same f16 scale; Q4_1's and Q5_1's mins as
// f32 in `mins`).
static void row_to_q8_0(int type, const uint8_t *row, int64_t blocks, uint8_t *out, float *mins) {
    for (int64_t b = 0; b < blocks; b++) {
        uint8_t *o = out + b * 34;
        if (type == MVLM_LEGACY_Q5_0) {
            const uint8_t *wb = row + b * 22;
            uint32_t qh = mvlm_load32(wb + 2);
            o[0] = wb[0];
            o[1] = wb[1];
            for (int j = 0; j < 16; j++) {
                o[2 + j] = (uint8_t)(int8_t)(((wb[6 + j] & 0xF) | (int)(((qh >> j) & 1) << 4)) - 16);
                o[18 + j] = (uint8_t)(int8_t)(((wb[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16);
            }
        } else if (type == MVLM_LEGACY_Q5_1) {
            const uint8_t *wb = row + b * 24;
            uint32_t qh = mvlm_load32(wb + 4);
            o[0] = wb[0];
            o[1] = wb[1];
            for (int j = 0; j < 16; j++) {
                o[2 + j] = (uint8_t)((wb[8 + j] & 0xF) | (((qh >> j) & 1) << 4));
                o[18 + j] = (uint8_t)((wb[8 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
            }
            mins[b] = mvlm_half_to_float(mvlm_load16(wb + 2));
        } else {
            const uint8_t *wb = row + b * 20;
            o[0] = wb[0];
            o[1] = wb[1];
            for (int j = 0; j < 16; j++) {
                o[2 + j] = wb[4 + j] & 0xF;
                o[18 + j] = wb[4 + j] >> 4;
            }
            mins[b] = mvlm_half_to_float(mvlm_load16(wb + 2));
        }
    }
}

void mvlm_gemm_legacy(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp,
                      const float *xsums, int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy,
                      void *scratch) {
    int64_t blocks = k / 32;
    uint8_t *tile = (uint8_t *)scratch;
    float *mins = (float *)(tile + LEGACY_TILE * blocks * 34);
    const uint8_t *rows = (const uint8_t *)w;
    for (int64_t n0 = first; n0 < last; n0 += LEGACY_TILE) {
        int64_t count = last - n0 < LEGACY_TILE ? last - n0 : LEGACY_TILE;
        for (int64_t r = 0; r < count; r++)
            row_to_q8_0(type, rows + (size_t)(n0 + r) * row_bytes, blocks, tile + r * blocks * 34, mins + r * blocks);
        mvlm_gemm_q8(1, tile, (size_t)(blocks * 34), 0, count, xp, tokens, k, bias ? bias + n0 : NULL, y + n0, ldy);
        if (type == MVLM_LEGACY_Q5_0) continue;  // Q4_1, Q5_1: the min term
        for (int64_t t = 0; t < tokens; t++) {
            const float *s = xsums + t * blocks;
            float *yt = y + t * ldy + n0;
            for (int64_t r = 0; r < count; r++) {
                const float *m = mins + r * blocks;
                float total = 0;
                for (int64_t b = 0; b < blocks; b++) total += m[b] * s[b];
                yt[r] += total;
            }
        }
    }
}
