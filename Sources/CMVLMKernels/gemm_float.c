// Float matrix x matrix (prefill, image encode): y[t, n] = Σ_k x[t, k] · w[n, k] (+ bias[n]) for
// f32, f16 or bf16 weights read in place and f32 activations.
//
// Blocking (per call, i.e. per thread's range of output rows):
//   for each panel of NR weight rows:
//     for each slice of KC inputs (for k > 3072 this loop is the outer one):
//       widen the NR × KC weights to f32 once, transposed to panel[k][NR] (8x8 register
//       transposes), so the conversion is paid once per panel and reused by every token;
//       for each tile of MR tokens: the MR × NR register tile accumulates Σ_k x[t,k]·panel[k]
//       (one broadcast of x per token and k, NR/16 or NR/8 FMAs each), then is added to y.
// The panel (KC × NR f32 = 16-32 KiB) stays in L1/L2. The activations are packed once per call
// (mvlm_gemm_float_pack) into tiles of 8 tokens, interleaved per input ([tile][k][8]), so a
// microkernel reads one contiguous stream of x instead of MR rows far apart.
// Each output is one sequential f32 sum over k (FMA per term), so the rounding error is at most
// about k · 2^-24 · Σ|w·x| (the bound the tests check); typical errors are far smaller.

#include "internal.h"
#include "mvlm_kernels.h"

enum { TILE = 8 };  // tokens per packed activation tile

int64_t mvlm_gemm_float_packed_count(int64_t tokens, int64_t k) { return (tokens + TILE - 1) / TILE * TILE * k; }

static void pack_tiles_portable(const float *x, int64_t ldx, int64_t tokens, int64_t k, int64_t first_tile,
                                int64_t last_tile, float *xp) {
    for (int64_t tile = first_tile; tile < last_tile; tile++) {
        float *out = xp + tile * TILE * k;
        for (int i = 0; i < TILE; i++) {
            int64_t t = tile * TILE + i;
            if (t < tokens) {
                const float *row = x + t * ldx;
                for (int64_t j = 0; j < k; j++) out[j * TILE + i] = row[j];
            } else {
                for (int64_t j = 0; j < k; j++) out[j * TILE + i] = 0;
            }
        }
    }
}

#ifdef MVLM_X86
static void pack_tiles_avx2(const float *x, int64_t ldx, int64_t tokens, int64_t k, int64_t first_tile, int64_t last_tile,
                            float *xp);
#endif

#ifdef MVLM_ARM
// 4x4 transpose of f32 lanes.
MVLM_INLINE void transpose4_neon(float32x4_t r[4]) {
    float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

// Activation tiles: 4 tokens x 4 inputs at a time through the transpose.
static void pack_tiles_neon(const float *x, int64_t ldx, int64_t tokens, int64_t k, int64_t first_tile, int64_t last_tile,
                            float *xp) {
    int64_t k4 = k & ~(int64_t)3;
    for (int64_t tile = first_tile; tile < last_tile; tile++) {
        float *out = xp + tile * TILE * k;
        int rows = (int)(tokens - tile * TILE < TILE ? tokens - tile * TILE : TILE);
        const float *base = x + tile * TILE * ldx;
        for (int64_t j = 0; j < k4; j += 4) {
            for (int h = 0; h < 2; h++) {
                float32x4_t v[4];
                for (int i = 0; i < 4; i++) v[i] = 4 * h + i < rows ? vld1q_f32(base + (4 * h + i) * ldx + j) : vdupq_n_f32(0);
                transpose4_neon(v);
                for (int i = 0; i < 4; i++) vst1q_f32(out + (j + i) * TILE + 4 * h, v[i]);
            }
        }
        for (int64_t j = k4; j < k; j++)
            for (int i = 0; i < TILE; i++) out[j * TILE + i] = i < rows ? base[i * ldx + j] : 0.0f;
    }
}
#endif

void mvlm_gemm_float_pack_strided(const float *x, int64_t ldx, int64_t tokens, int64_t k, int64_t first_tile,
                                  int64_t last_tile, float *xp) {
#ifdef MVLM_X86
    if (mvlm_kernels_level() >= 1) {
        pack_tiles_avx2(x, ldx, tokens, k, first_tile, last_tile, xp);
        return;
    }
#endif
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) {
        pack_tiles_neon(x, ldx, tokens, k, first_tile, last_tile, xp);
        return;
    }
#endif
    pack_tiles_portable(x, ldx, tokens, k, first_tile, last_tile, xp);
}

void mvlm_gemm_float_pack(const float *x, int64_t tokens, int64_t k, int64_t first_tile, int64_t last_tile, float *xp) {
    mvlm_gemm_float_pack_strided(x, k, tokens, k, first_tile, last_tile, xp);
}

// ---- portable ---------------------------------------------------------------------------------

enum { P_NR = 16, P_KC = 256 };

static float load_weight(int type, const void *w, int64_t index) {
    switch (type) {
    case MVLM_WEIGHT_F16: return mvlm_half_to_float(((const uint16_t *)w)[index]);
    case MVLM_WEIGHT_BF16: return mvlm_bf16_to_float(((const uint16_t *)w)[index]);
    default: return ((const float *)w)[index];
    }
}

static void pack_portable(int type, const void *w, int64_t ldw, int64_t n0, int nr, int64_t k0, int kc, float *panel) {
    if (type == MVLM_WEIGHT_F32_TRANSPOSED) {
        const float *f = (const float *)w;
        for (int j = 0; j < kc; j++)
            for (int r = 0; r < P_NR; r++) panel[j * P_NR + r] = r < nr ? f[(k0 + j) * ldw + n0 + r] : 0.0f;
        return;
    }
    for (int r = 0; r < P_NR; r++) {
        if (r < nr) {
            int64_t base = (n0 + r) * ldw + k0;
            for (int j = 0; j < kc; j++) panel[j * P_NR + r] = load_weight(type, w, base + j);
        } else {
            for (int j = 0; j < kc; j++) panel[j * P_NR + r] = 0;
        }
    }
}

static void gemm_float_portable(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *xp,
                                int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy) {
    float panel[P_KC * P_NR];
    for (int64_t n0 = first; n0 < last; n0 += P_NR) {
        int nr = (int)(last - n0 < P_NR ? last - n0 : P_NR);
        for (int64_t k0 = 0; k0 < k || k0 == 0; k0 += P_KC) {
            int kc = (int)(k - k0 < P_KC ? k - k0 : P_KC);
            pack_portable(type, w, ldw, n0, nr, k0, kc, panel);
            for (int64_t t0 = 0; t0 < tokens; t0 += 4) {
                int mr = (int)(tokens - t0 < 4 ? tokens - t0 : 4);
                const float *xt = xp + (t0 / TILE) * TILE * k + k0 * TILE + t0 % TILE;
                float c[4][P_NR];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < P_NR; j++)
                        c[i][j] = (i < mr && j < nr) ? (k0 == 0 ? (bias ? bias[n0 + j] : 0.0f) : y[(t0 + i) * ldy + n0 + j]) : 0.0f;
                for (int kk = 0; kk < kc; kk++) {
                    const float *p = panel + kk * P_NR;
                    for (int i = 0; i < 4; i++) {
                        float a = xt[kk * TILE + i];
                        for (int j = 0; j < P_NR; j++) c[i][j] = fmaf(a, p[j], c[i][j]);
                    }
                }
                for (int i = 0; i < mr; i++)
                    for (int j = 0; j < nr; j++) y[(t0 + i) * ldy + n0 + j] = c[i][j];
            }
            if (k == 0) break;
        }
    }
}

#ifdef MVLM_X86

// ---- packing with AVX2 + F16C (used by both vector paths) -------------------------------------

// Eight weights from element `index`, widened.
MVLM_AVX2 MVLM_INLINE __m256 load8_weights(int type, const void *w, int64_t index) {
    switch (type) {
    case MVLM_WEIGHT_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + index)));
    case MVLM_WEIGHT_BF16:
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + index))), 16));
    default: return _mm256_loadu_ps((const float *)w + index);
    }
}

MVLM_AVX2 MVLM_INLINE void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Activation tiles: 8 tokens x 8 inputs at a time through the same transpose.
MVLM_AVX2 static void pack_tiles_avx2(const float *x, int64_t ldx, int64_t tokens, int64_t k, int64_t first_tile,
                                      int64_t last_tile, float *xp) {
    int64_t k8 = k & ~(int64_t)7;
    for (int64_t tile = first_tile; tile < last_tile; tile++) {
        float *out = xp + tile * TILE * k;
        int rows = (int)(tokens - tile * TILE < TILE ? tokens - tile * TILE : TILE);
        const float *base = x + tile * TILE * ldx;
        for (int64_t j = 0; j < k8; j += 8) {
            __m256 v[8];
            for (int i = 0; i < 8; i++) v[i] = i < rows ? _mm256_loadu_ps(base + i * ldx + j) : _mm256_setzero_ps();
            transpose8(v);
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + (j + i) * TILE, v[i]);
        }
        for (int64_t j = k8; j < k; j++)
            for (int i = 0; i < TILE; i++) out[j * TILE + i] = i < rows ? base[i * ldx + j] : 0.0f;
    }
}

// panel[k * nr_stride + r] = w[n0 + r, k0 + k] as f32 for r < nr (zero for nr <= r < nr_stride).
MVLM_AVX2 MVLM_INLINE void pack_avx2(int type, const void *w, int64_t ldw, int64_t n0, int nr, int64_t k0, int kc,
                                     float *panel, int nr_stride) {
    if (type == MVLM_WEIGHT_F32_TRANSPOSED) {  // already input-major: copy rows of the panel
        const float *f = (const float *)w;
        for (int j = 0; j < kc; j++) {
            const float *src = f + (k0 + j) * ldw + n0;
            float *dst = panel + j * nr_stride;
            int r = 0;
            for (; r + 8 <= nr; r += 8) _mm256_store_ps(dst + r, _mm256_loadu_ps(src + r));
            for (; r < nr; r++) dst[r] = src[r];
            for (; r < nr_stride; r++) dst[r] = 0;
        }
        return;
    }
    int k8 = kc & ~7;
    for (int r0 = 0; r0 < nr_stride; r0 += 8) {
        int rows = nr - r0 < 8 ? (nr - r0 > 0 ? nr - r0 : 0) : 8;
        if (rows == 0) {
            for (int j = 0; j < kc; j++) _mm256_storeu_ps(panel + j * nr_stride + r0, _mm256_setzero_ps());
            continue;
        }
        for (int j = 0; j < k8; j += 8) {
            __m256 v[8];
            for (int r = 0; r < 8; r++)
                v[r] = r < rows ? load8_weights(type, w, (n0 + r0 + r) * ldw + k0 + j) : _mm256_setzero_ps();
            transpose8(v);
            for (int i = 0; i < 8; i++) _mm256_store_ps(panel + (j + i) * nr_stride + r0, v[i]);
        }
        for (int j = k8; j < kc; j++)
            for (int r = 0; r < 8; r++)
                panel[j * nr_stride + r0 + r] = r < rows ? load_weight(type, w, (n0 + r0 + r) * ldw + k0 + j) : 0.0f;
    }
}

// ---- AVX2 + FMA: 4 tokens x 16 outputs ---------------------------------------------------------

enum { A_NR = 16, A_KC = 256 };

// Tokens t0 + [0, 4) (`mr` of them stored) of the tile at `xt` (its column `lane`).
MVLM_AVX2 MVLM_INLINE void micro_avx2(int mr, const float *panel, int kc, const float *xt, float *y, int64_t ldy,
                                      int first, const float *bias, int nr) {
    __m256 c0[4], c1[4];
    float tmp[4][A_NR];
    if (nr < A_NR) {  // partial panel: through a full local tile
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < A_NR; j++)
                tmp[i][j] = (i < mr && j < nr) ? (first ? (bias ? bias[j] : 0.0f) : y[i * ldy + j]) : 0.0f;
        for (int i = 0; i < 4; i++) {
            c0[i] = _mm256_loadu_ps(tmp[i]);
            c1[i] = _mm256_loadu_ps(tmp[i] + 8);
        }
    } else if (first) {
        __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
        __m256 b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            c0[i] = b0;
            c1[i] = b1;
        }
    } else {
        for (int i = 0; i < 4; i++) {
            c0[i] = i < mr ? _mm256_loadu_ps(y + i * ldy) : _mm256_setzero_ps();
            c1[i] = i < mr ? _mm256_loadu_ps(y + i * ldy + 8) : _mm256_setzero_ps();
        }
    }
    for (int j = 0; j < kc; j++) {
        __m256 w0 = _mm256_load_ps(panel + j * A_NR), w1 = _mm256_load_ps(panel + j * A_NR + 8);
        for (int i = 0; i < 4; i++) {
            __m256 a = _mm256_broadcast_ss(xt + j * TILE + i);
            c0[i] = _mm256_fmadd_ps(a, w0, c0[i]);
            c1[i] = _mm256_fmadd_ps(a, w1, c1[i]);
        }
    }
    if (nr < A_NR) {
        for (int i = 0; i < mr; i++) {
            _mm256_storeu_ps(tmp[i], c0[i]);
            _mm256_storeu_ps(tmp[i] + 8, c1[i]);
            for (int j = 0; j < nr; j++) y[i * ldy + j] = tmp[i][j];
        }
    } else {
        for (int i = 0; i < mr; i++) {
            _mm256_storeu_ps(y + i * ldy, c0[i]);
            _mm256_storeu_ps(y + i * ldy + 8, c1[i]);
        }
    }
}

MVLM_AVX2 static void gemm_float_avx2(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *xp,
                                      int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy) {
    float panel[A_KC * A_NR] __attribute__((aligned(64)));
    for (int64_t n0 = first; n0 < last; n0 += A_NR) {
        int nr = (int)(last - n0 < A_NR ? last - n0 : A_NR);
        const float *b = bias ? bias + n0 : NULL;
        for (int64_t k0 = 0; k0 < k || k0 == 0; k0 += A_KC) {
            int kc = (int)(k - k0 < A_KC ? k - k0 : A_KC);
            pack_avx2(type, w, ldw, n0, nr, k0, kc, panel, A_NR);
            for (int64_t t0 = 0; t0 < tokens; t0 += 4) {
                int mr = (int)(tokens - t0 < 4 ? tokens - t0 : 4);
                const float *xt = xp + (t0 / TILE) * TILE * k + k0 * TILE + t0 % TILE;
                micro_avx2(mr, panel, kc, xt, y + t0 * ldy + n0, ldy, k0 == 0, b, nr);
            }
            if (k == 0) break;
        }
    }
}

// ---- AVX-512: 8 tokens x 32 outputs ------------------------------------------------------------

enum { Z_NR = 32, Z_KC = 256 };

MVLM_AVX512 MVLM_INLINE void micro_avx512(int mr, const float *panel, int kc, const float *xt, float *y, int64_t ldy,
                                          int first, const float *bias, __mmask16 m0, __mmask16 m1) {
    __m512 c0[TILE], c1[TILE];
    if (first) {
        __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
        __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
        for (int i = 0; i < TILE; i++) {
            c0[i] = b0;
            c1[i] = b1;
        }
    } else {
        for (int i = 0; i < TILE; i++) {
            c0[i] = i < mr ? _mm512_maskz_loadu_ps(m0, y + i * ldy) : _mm512_setzero_ps();
            c1[i] = i < mr ? _mm512_maskz_loadu_ps(m1, y + i * ldy + 16) : _mm512_setzero_ps();
        }
    }
    for (int j = 0; j < kc; j++) {
        __m512 w0 = _mm512_load_ps(panel + j * Z_NR), w1 = _mm512_load_ps(panel + j * Z_NR + 16);
        for (int i = 0; i < TILE; i++) {
            __m512 a = _mm512_set1_ps(xt[j * TILE + i]);
            c0[i] = _mm512_fmadd_ps(a, w0, c0[i]);
            c1[i] = _mm512_fmadd_ps(a, w1, c1[i]);
        }
    }
    for (int i = 0; i < mr; i++) {
        _mm512_mask_storeu_ps(y + i * ldy, m0, c0[i]);
        _mm512_mask_storeu_ps(y + i * ldy + 16, m1, c1[i]);
    }
}

// One panel (rows [n0, n0 + 32), inputs [k0, k0 + kc)) times every token tile.
MVLM_AVX512 MVLM_INLINE void panel_avx512(int type, const void *w, int64_t ldw, int64_t n0, int64_t last, int64_t k0,
                                          int kc, const float *xp, int64_t tokens, int64_t k, const float *bias, float *y,
                                          int64_t ldy, float *panel) {
    int nr = (int)(last - n0 < Z_NR ? last - n0 : Z_NR);
    __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
    __mmask16 m1 = (__mmask16)(nr >= 32 ? 0xFFFF : (nr <= 16 ? 0 : (1u << (nr - 16)) - 1));
    const float *b = bias ? bias + n0 : NULL;
    pack_avx2(type, w, ldw, n0, nr, k0, kc, panel, Z_NR);
    for (int64_t t0 = 0; t0 < tokens; t0 += TILE) {
        int mr = (int)(tokens - t0 < TILE ? tokens - t0 : TILE);
        micro_avx512(mr, panel, kc, xp + t0 * k + k0 * TILE, y + t0 * ldy + n0, ldy, k0 == 0, b, m0, m1);
    }
}

MVLM_AVX512 static void gemm_float_avx512(int type, const void *w, int64_t ldw, int64_t first, int64_t last,
                                          const float *xp, int64_t tokens, int64_t k, const float *bias, float *y,
                                          int64_t ldy) {
    float panel[Z_KC * Z_NR] __attribute__((aligned(64)));
    if (k > 3072) {
        // Long rows: slices of inputs outside, so one slice of the packed activations stays in L2
        // while every panel of this range uses it (measured 5-15% faster at k = 4096 and 5632, 20% slower at k = 2048).
        for (int64_t k0 = 0; k0 < k; k0 += Z_KC) {
            int kc = (int)(k - k0 < Z_KC ? k - k0 : Z_KC);
            for (int64_t n0 = first; n0 < last; n0 += Z_NR)
                panel_avx512(type, w, ldw, n0, last, k0, kc, xp, tokens, k, bias, y, ldy, panel);
        }
        return;
    }
    for (int64_t n0 = first; n0 < last; n0 += Z_NR) {
        for (int64_t k0 = 0; k0 < k || k0 == 0; k0 += Z_KC) {
            int kc = (int)(k - k0 < Z_KC ? k - k0 : Z_KC);
            panel_avx512(type, w, ldw, n0, last, k0, kc, xp, tokens, k, bias, y, ldy, panel);
            if (k == 0) break;
        }
    }
}

#endif  // MVLM_X86

#ifdef MVLM_ARM

// ---- NEON: 8 tokens x 8 outputs ----------------------------------------------------------------
// The panel is 16 rows wide (two micro-tiles); each output is one f32 FMA chain over k from the
// bias (or the previous slice's value), in input order: the portable kernel's operations, so every
// level gives level 0's floats. f16 weights are widened with FCVTL (ARMv8.0); FP16 arithmetic
// (FEAT_FP16) is not used: its f32-accumulating form (FMLAL, FEAT_FHM) would need the activations
// rounded to f16 as well.

enum { N_NR = 16, N_KC = 256 };

// Four weights from element `index`, widened.
MVLM_INLINE float32x4_t load4_weights(int type, const void *w, int64_t index) {
    switch (type) {
    case MVLM_WEIGHT_F16: return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)w + index)));
    case MVLM_WEIGHT_BF16: return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)w + index), 16));
    default: return vld1q_f32((const float *)w + index);
    }
}

// panel[k * N_NR + r] = w[n0 + r, k0 + k] as f32 for r < nr (zero for nr <= r < N_NR).
MVLM_INLINE void pack_neon(int type, const void *w, int64_t ldw, int64_t n0, int nr, int64_t k0, int kc, float *panel) {
    if (type == MVLM_WEIGHT_F32_TRANSPOSED) {
        const float *f = (const float *)w;
        for (int j = 0; j < kc; j++) {
            const float *src = f + (k0 + j) * ldw + n0;
            float *dst = panel + j * N_NR;
            int r = 0;
            for (; r + 4 <= nr; r += 4) vst1q_f32(dst + r, vld1q_f32(src + r));
            for (; r < nr; r++) dst[r] = src[r];
            for (; r < N_NR; r++) dst[r] = 0;
        }
        return;
    }
    int k4 = kc & ~3;
    for (int r0 = 0; r0 < N_NR; r0 += 4) {
        int rows = nr - r0 < 4 ? (nr - r0 > 0 ? nr - r0 : 0) : 4;
        if (rows == 0) {
            for (int j = 0; j < kc; j++) vst1q_f32(panel + j * N_NR + r0, vdupq_n_f32(0));
            continue;
        }
        for (int j = 0; j < k4; j += 4) {
            float32x4_t v[4];
            for (int r = 0; r < 4; r++) v[r] = r < rows ? load4_weights(type, w, (n0 + r0 + r) * ldw + k0 + j) : vdupq_n_f32(0);
            transpose4_neon(v);
            for (int i = 0; i < 4; i++) vst1q_f32(panel + (j + i) * N_NR + r0, v[i]);
        }
        for (int j = k4; j < kc; j++)
            for (int r = 0; r < 4; r++)
                panel[j * N_NR + r0 + r] = r < rows ? load_weight(type, w, (n0 + r0 + r) * ldw + k0 + j) : 0.0f;
    }
}

// Tokens [0, 8) of the tile at xt (mr of them stored) x outputs [0, 8) of the panel at p (nr stored).
MVLM_INLINE void micro_neon(int mr, int nr, const float *p, int kc, const float *xt, float *y, int64_t ldy, int first,
                            const float *bias) {
    float32x4_t c[TILE][2];
    float tmp[TILE][8];
    for (int i = 0; i < TILE; i++)
        for (int j = 0; j < 8; j++)
            tmp[i][j] = (i < mr && j < nr) ? (first ? (bias ? bias[j] : 0.0f) : y[i * ldy + j]) : 0.0f;
    for (int i = 0; i < TILE; i++) c[i][0] = vld1q_f32(tmp[i]), c[i][1] = vld1q_f32(tmp[i] + 4);
    for (int j = 0; j < kc; j++) {
        MVLM_MCA_BEGIN("gemm_float_neon");
        float32x4_t w0 = vld1q_f32(p + j * N_NR), w1 = vld1q_f32(p + j * N_NR + 4);
        float32x4_t x0 = vld1q_f32(xt + j * TILE), x1 = vld1q_f32(xt + j * TILE + 4);
#define ROW(i, X, L)                                  \
    c[i][0] = vfmaq_laneq_f32(c[i][0], w0, X, L); \
    c[i][1] = vfmaq_laneq_f32(c[i][1], w1, X, L);
        ROW(0, x0, 0) ROW(1, x0, 1) ROW(2, x0, 2) ROW(3, x0, 3)
        ROW(4, x1, 0) ROW(5, x1, 1) ROW(6, x1, 2) ROW(7, x1, 3)
#undef ROW
        for (int i = 0; i < TILE; i++) {
            MVLM_PF_PIN(c[i][0]);
            MVLM_PF_PIN(c[i][1]);
        }
        MVLM_MCA_END("gemm_float_neon");
    }
    for (int i = 0; i < TILE; i++) vst1q_f32(tmp[i], c[i][0]), vst1q_f32(tmp[i] + 4, c[i][1]);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) y[i * ldy + j] = tmp[i][j];
}

static void gemm_float_neon(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *xp,
                            int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy) {
    float panel[N_KC * N_NR] __attribute__((aligned(16)));
    for (int64_t n0 = first; n0 < last; n0 += N_NR) {
        int nr = (int)(last - n0 < N_NR ? last - n0 : N_NR);
        for (int64_t k0 = 0; k0 < k || k0 == 0; k0 += N_KC) {
            int kc = (int)(k - k0 < N_KC ? k - k0 : N_KC);
            pack_neon(type, w, ldw, n0, nr, k0, kc, panel);
            for (int64_t t0 = 0; t0 < tokens; t0 += TILE) {
                int mr = (int)(tokens - t0 < TILE ? tokens - t0 : TILE);
                const float *xt = xp + t0 * k + k0 * TILE;
                for (int h = 0; h < 2 && 8 * h < nr; h++) {
                    int n8 = nr - 8 * h < 8 ? nr - 8 * h : 8;
                    micro_neon(mr, n8, panel + 8 * h, kc, xt, y + t0 * ldy + n0 + 8 * h, ldy, k0 == 0,
                               bias ? bias + n0 + 8 * h : NULL);
                }
            }
            if (k == 0) break;
        }
    }
}

#endif  // MVLM_ARM

void mvlm_gemm_float(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *xp, int64_t tokens,
                     int64_t k, const float *bias, float *y, int64_t ldy) {
    if (first >= last || tokens <= 0) return;
#ifdef MVLM_X86
    switch (mvlm_kernels_level()) {
    case 2: gemm_float_avx512(type, w, ldw, first, last, xp, tokens, k, bias, y, ldy); return;
    case 1: gemm_float_avx2(type, w, ldw, first, last, xp, tokens, k, bias, y, ldy); return;
    default: break;
    }
#endif
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) {
        gemm_float_neon(type, w, ldw, first, last, xp, tokens, k, bias, y, ldy);
        return;
    }
#endif
    gemm_float_portable(type, w, ldw, first, last, xp, tokens, k, bias, y, ldy);
}
