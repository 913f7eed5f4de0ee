// Attention as two matrix products per (head, block of 32 queries), through the float GEMM:
// scores S = Q Kᵀ (the keys are the "weights", rows kv_heads * d apart), a row softmax in place,
// then O = P V (the values as input-major f32 weights). Every query of the block scores every key
// up to the block's last visible one; keys a causal query may not see get probability 0.
// The softmax is vectorized (AVX2, AVX-512, NEON) with a polynomial exp (Cephes' expf coefficients after reduction by
// ln 2; within 2 ulp of expf over the range softmax uses, values below e^-87 flush towards 0).

#include "internal.h"
#include "mvlm_kernels.h"

enum { QUERY_BLOCK = 32 };

// row[j] = softmax(scale · row)[j] over j < visible, 0 for visible <= j < keys.
static void softmax_portable(float *row, int64_t visible, int64_t keys, float scale) {
    float maximum = -INFINITY;
    for (int64_t j = 0; j < visible; j++) {
        row[j] *= scale;
        maximum = row[j] > maximum ? row[j] : maximum;
    }
    float total = 0;
    for (int64_t j = 0; j < visible; j++) {
        row[j] = expf(row[j] - maximum);
        total += row[j];
    }
    float inverse = 1 / total;
    for (int64_t j = 0; j < visible; j++) row[j] *= inverse;
    for (int64_t j = visible; j < keys; j++) row[j] = 0;
}

#ifdef MVLM_X86
MVLM_AVX2 static void softmax_avx2(float *row, int64_t visible, int64_t keys, float scale) {
    __m256 vs = _mm256_set1_ps(scale), vmax = _mm256_set1_ps(-INFINITY);
    int64_t j = 0;
    for (; j + 8 <= visible; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + j), vs);
        _mm256_storeu_ps(row + j, v);
        vmax = _mm256_max_ps(vmax, v);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    float maximum = -INFINITY;
    for (int i = 0; i < 8; i++) maximum = lanes[i] > maximum ? lanes[i] : maximum;
    for (int64_t i = j; i < visible; i++) {
        row[i] *= scale;
        maximum = row[i] > maximum ? row[i] : maximum;
    }
    __m256 m = _mm256_set1_ps(maximum), sum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= visible; j += 8) {
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + j), m));
        _mm256_storeu_ps(row + j, e);
        sum = _mm256_add_ps(sum, e);
    }
    _mm256_storeu_ps(lanes, sum);
    float total = 0;
    for (int i = 0; i < 8; i++) total += lanes[i];
    for (int64_t i = j; i < visible; i++) {
        float tail[8] = {row[i] - maximum, 0, 0, 0, 0, 0, 0, 0};
        _mm256_storeu_ps(tail, exp_avx2(_mm256_loadu_ps(tail)));
        row[i] = tail[0];
        total += tail[0];
    }
    __m256 inverse = _mm256_set1_ps(1 / total);
    for (j = 0; j + 8 <= visible; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inverse));
    for (; j < visible; j++) row[j] *= 1 / total;
    for (; j < keys; j++) row[j] = 0;
}

MVLM_AVX512 static void softmax_avx512(float *row, int64_t visible, int64_t keys, float scale) {
    __m512 vs = _mm512_set1_ps(scale), vmax = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < visible; j += 16) {
        __mmask16 m = visible - j >= 16 ? 0xFFFF : (__mmask16)((1u << (visible - j)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + j), vs);
        _mm512_mask_storeu_ps(row + j, m, v);
        vmax = _mm512_mask_max_ps(vmax, m, vmax, v);
    }
    __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax)), sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < visible; j += 16) {
        __mmask16 m = visible - j >= 16 ? 0xFFFF : (__mmask16)((1u << (visible - j)) - 1);
        __m512 e = exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + j), mx));
        _mm512_mask_storeu_ps(row + j, m, e);
        sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    __m512 inverse = _mm512_set1_ps(1 / _mm512_reduce_add_ps(sum));
    for (int64_t j = 0; j < visible; j += 16) {
        __mmask16 m = visible - j >= 16 ? 0xFFFF : (__mmask16)((1u << (visible - j)) - 1);
        _mm512_mask_storeu_ps(row + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + j), inverse));
    }
    for (int64_t j = visible; j < keys; j++) row[j] = 0;
}
#endif

#ifdef MVLM_ARM
// softmax_portable in NEON (the sum of e^x in four lanes, then the lanes, then the tail).
static void softmax_neon(float *row, int64_t visible, int64_t keys, float scale) {
    float32x4_t vs = vdupq_n_f32(scale), vmax = vdupq_n_f32(-INFINITY);
    int64_t j = 0;
    for (; j + 4 <= visible; j += 4) {
        float32x4_t v = vmulq_f32(vld1q_f32(row + j), vs);
        vst1q_f32(row + j, v);
        vmax = vmaxq_f32(vmax, v);
    }
    float maximum = vmaxvq_f32(vmax);
    for (int64_t i = j; i < visible; i++) {
        row[i] *= scale;
        maximum = row[i] > maximum ? row[i] : maximum;
    }
    float32x4_t m = vdupq_n_f32(maximum), sum = vdupq_n_f32(0);
    for (j = 0; j + 4 <= visible; j += 4) {
        MVLM_MCA_BEGIN("softmax_exp_neon");
        float32x4_t e = mvlm_pf_exp4(vsubq_f32(vld1q_f32(row + j), m));
        vst1q_f32(row + j, e);
        sum = vaddq_f32(sum, e);
        MVLM_PF_PIN(sum);
        MVLM_MCA_END("softmax_exp_neon");
    }
    float total = vaddvq_f32(sum);
    for (int64_t i = j; i < visible; i++) {
        float e = vgetq_lane_f32(mvlm_pf_exp4(vdupq_n_f32(row[i] - maximum)), 0);
        row[i] = e;
        total += e;
    }
    float32x4_t inverse = vdupq_n_f32(1 / total);
    for (j = 0; j + 4 <= visible; j += 4) vst1q_f32(row + j, vmulq_f32(vld1q_f32(row + j), inverse));
    for (; j < visible; j++) row[j] *= 1 / total;
    for (; j < keys; j++) row[j] = 0;
}
#endif

static void softmax(int level, float *row, int64_t visible, int64_t keys, float scale) {
#ifdef MVLM_ARM
    if (level >= 1) {
        softmax_neon(row, visible, keys, scale);
        return;
    }
#endif
#ifdef MVLM_X86
    if (level == 2) {
        softmax_avx512(row, visible, keys, scale);
        return;
    }
    if (level == 1) {
        softmax_avx2(row, visible, keys, scale);
        return;
    }
#endif
    (void)level;
    softmax_portable(row, visible, keys, scale);
}

int64_t mvlm_attention_scratch_count(int64_t tokens, int64_t past, int64_t head_dim) {
    int64_t keys = past + tokens;
    return mvlm_gemm_float_packed_count(QUERY_BLOCK, head_dim) + QUERY_BLOCK * keys +
           mvlm_gemm_float_packed_count(QUERY_BLOCK, keys);
}

void mvlm_attention(const float *q, const float *k, const float *v, float *out, int64_t tokens, int64_t past,
                    int64_t heads, int64_t kv_heads, int64_t head_dim, float scale, int causal, int64_t first_item,
                    int64_t last_item, float *scratch) {
    int64_t blocks = (tokens + QUERY_BLOCK - 1) / QUERY_BLOCK, d = head_dim;
    int64_t q_width = heads * d, kv_width = kv_heads * d, group = heads / kv_heads;
    int level = mvlm_kernels_level();
    for (int64_t item = first_item; item < last_item; item++) {
        int64_t h = item / blocks, t0 = (item % blocks) * QUERY_BLOCK;
        int64_t n = tokens - t0 < QUERY_BLOCK ? tokens - t0 : QUERY_BLOCK;
        int64_t keys = causal ? past + t0 + n : past + tokens;
        const float *kh = k + (h / group) * d, *vh = v + (h / group) * d;
        float *xq = scratch, *scores = xq + mvlm_gemm_float_packed_count(QUERY_BLOCK, d), *xp = scores + QUERY_BLOCK * keys;
        int64_t tiles = (n + 7) / 8;
        mvlm_gemm_float_pack_strided(q + t0 * q_width + h * d, q_width, n, d, 0, tiles, xq);
        mvlm_gemm_float(MVLM_WEIGHT_F32, kh, kv_width, 0, keys, xq, n, d, NULL, scores, keys);
        for (int64_t i = 0; i < n; i++)
            softmax(level, scores + i * keys, causal ? past + t0 + i + 1 : keys, keys, scale);
        mvlm_gemm_float_pack_strided(scores, keys, n, keys, 0, tiles, xp);
        mvlm_gemm_float(MVLM_WEIGHT_F32_TRANSPOSED, vh, kv_width, 0, d, xp, n, keys, NULL, out + t0 * q_width + h * d, q_width);
    }
}

// ---- Attention for a few query rows (decode) ---------------------------------------------------
// One work item is one (token, head): the scores are dot products of the query with each visible
// key (four keys at a time: four independent sums and four rows in flight), then the softmax
// above, then the probability-weighted sum of the values (the head's columns in registers, the
// keys inner). With one query the matrix route (packing Q, a GEMM with one row) costs more than
// it saves. (Taking a run of heads together, to read each cache row's part for the run in one
// piece, measured slower: 8 against 14 GB/s on one Zen 4 thread at 512 positions.)

#ifdef MVLM_X86
MVLM_AVX2 static void attend_scores_avx2(const float *q, const float *k, int64_t visible, int64_t kv_width, int64_t d,
                                         float *scores) {
    int64_t full = d / 8 * 8;
    for (int64_t j = 0; j < visible; j++) {
        const float *kj = k + j * kv_width;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int64_t c = 0;
        for (; c + 16 <= full; c += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), _mm256_loadu_ps(kj + c), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + c + 8), _mm256_loadu_ps(kj + c + 8), a1);
        }
        for (; c < full; c += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), _mm256_loadu_ps(kj + c), a0);
        float s = mvlm_hsum8(_mm256_add_ps(a0, a1));
        for (; c < d; c++) s += q[c] * kj[c];
        scores[j] = s;
    }
}

MVLM_AVX2 static void attend_values_avx2(const float *v, float *out, int64_t visible, int64_t kv_width, int64_t d,
                                         const float *scores) {
    int64_t full = d / 8 * 8;
    // Columns in runs of 32 (four registers), the keys inner.
    for (int64_t c0 = 0; c0 < full; c0 += 32) {
        int64_t n = full - c0 < 32 ? (full - c0) / 8 : 4;
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int64_t j = 0; j < visible; j++) {
            __m256 p = _mm256_set1_ps(scores[j]);
            const float *vj = v + j * kv_width + c0;
            for (int64_t r = 0; r < n; r++) acc[r] = _mm256_fmadd_ps(p, _mm256_loadu_ps(vj + 8 * r), acc[r]);
        }
        for (int64_t r = 0; r < n; r++) _mm256_storeu_ps(out + c0 + 8 * r, acc[r]);
    }
    for (int64_t c = full; c < d; c++) {
        float s = 0;
        for (int64_t j = 0; j < visible; j++) s += scores[j] * v[j * kv_width + c];
        out[c] = s;
    }
}

MVLM_AVX512 static void attend_scores_avx512(const float *q, const float *k, int64_t visible, int64_t kv_width,
                                             int64_t d, float *scores) {
    int64_t j = 0;
    for (; j + 4 <= visible; j += 4) {
        const float *k0 = k + j * kv_width;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t c = 0; c < d; c += 16) {
            __mmask16 m = d - c >= 16 ? 0xFFFF : (__mmask16)((1u << (d - c)) - 1);
            __m512 x = _mm512_maskz_loadu_ps(m, q + c);
            a0 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, k0 + c), a0);
            a1 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, k0 + kv_width + c), a1);
            a2 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, k0 + 2 * kv_width + c), a2);
            a3 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, k0 + 3 * kv_width + c), a3);
        }
        scores[j] = _mm512_reduce_add_ps(a0);
        scores[j + 1] = _mm512_reduce_add_ps(a1);
        scores[j + 2] = _mm512_reduce_add_ps(a2);
        scores[j + 3] = _mm512_reduce_add_ps(a3);
    }
    for (; j < visible; j++) {
        const float *kj = k + j * kv_width;
        __m512 a = _mm512_setzero_ps();
        for (int64_t c = 0; c < d; c += 16) {
            __mmask16 m = d - c >= 16 ? 0xFFFF : (__mmask16)((1u << (d - c)) - 1);
            a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + c), _mm512_maskz_loadu_ps(m, kj + c), a);
        }
        scores[j] = _mm512_reduce_add_ps(a);
    }
}

MVLM_AVX512 static void attend_values_avx512(const float *v, float *out, int64_t visible, int64_t kv_width, int64_t d,
                                             const float *scores) {
    // Columns in runs of up to 128 (eight registers, the last one masked), the keys inner.
    for (int64_t c0 = 0; c0 < d; c0 += 128) {
        int64_t width = d - c0 < 128 ? d - c0 : 128, n = (width + 15) / 16;
        __mmask16 last = width % 16 == 0 ? 0xFFFF : (__mmask16)((1u << (width % 16)) - 1);
        __m512 acc[8];
        for (int r = 0; r < 8; r++) acc[r] = _mm512_setzero_ps();
        if (n == 8 && last == 0xFFFF) {
            for (int64_t j = 0; j < visible; j++) {
                __m512 p = _mm512_set1_ps(scores[j]);
                const float *vj = v + j * kv_width + c0;
#pragma clang loop unroll(full)
                for (int r = 0; r < 8; r++) acc[r] = _mm512_fmadd_ps(p, _mm512_loadu_ps(vj + 16 * r), acc[r]);
            }
        } else {
            for (int64_t j = 0; j < visible; j++) {
                __m512 p = _mm512_set1_ps(scores[j]);
                const float *vj = v + j * kv_width + c0;
                for (int64_t r = 0; r < n; r++) {
                    __mmask16 m = r == n - 1 ? last : 0xFFFF;
                    acc[r] = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m, vj + 16 * r), acc[r]);
                }
            }
        }
        for (int64_t r = 0; r < n; r++) _mm512_mask_storeu_ps(out + c0 + 16 * r, r == n - 1 ? last : 0xFFFF, acc[r]);
    }
}
#endif

#ifdef MVLM_ARM
// Four keys at a time, two accumulators each (d in steps of 8, then 4, then single columns).
static void attend_scores_neon(const float *q, const float *k, int64_t visible, int64_t kv_width, int64_t d,
                               float *scores) {
    int64_t d4 = d / 4 * 4, j = 0;
    for (; j + 4 <= visible; j += 4) {
        const float *k0 = k + j * kv_width;
        float32x4_t a[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
        for (int64_t c = 0; c < d4; c += 4) {
            MVLM_MCA_BEGIN("attention_scores_neon");
            float32x4_t x = vld1q_f32(q + c);
            for (int r = 0; r < 4; r++) a[r] = vfmaq_f32(a[r], x, vld1q_f32(k0 + r * kv_width + c));
            for (int r = 0; r < 4; r++) MVLM_PF_PIN(a[r]);
            MVLM_MCA_END("attention_scores_neon");
        }
        for (int r = 0; r < 4; r++) {
            float s = vaddvq_f32(a[r]);
            for (int64_t c = d4; c < d; c++) s += q[c] * k0[r * kv_width + c];
            scores[j + r] = s;
        }
    }
    for (; j < visible; j++) {
        const float *kj = k + j * kv_width;
        float32x4_t a = vdupq_n_f32(0);
        for (int64_t c = 0; c < d4; c += 4) a = vfmaq_f32(a, vld1q_f32(q + c), vld1q_f32(kj + c));
        float s = vaddvq_f32(a);
        for (int64_t c = d4; c < d; c++) s += q[c] * kj[c];
        scores[j] = s;
    }
}

// Columns in runs of up to 32 (eight registers), the keys inner.
static void attend_values_neon(const float *v, float *out, int64_t visible, int64_t kv_width, int64_t d,
                               const float *scores) {
    int64_t d4 = d / 4 * 4;
    for (int64_t c0 = 0; c0 < d4; c0 += 32) {
        int n = (int)((d4 - c0 < 32 ? d4 - c0 : 32) / 4);
        float32x4_t acc[8];
        for (int r = 0; r < 8; r++) acc[r] = vdupq_n_f32(0);
        if (n == 8) {
            for (int64_t j = 0; j < visible; j++) {
                MVLM_MCA_BEGIN("attention_values_neon");
                float32x4_t p = vdupq_n_f32(scores[j]);
                const float *vj = v + j * kv_width + c0;
                for (int r = 0; r < 8; r++) acc[r] = vfmaq_f32(acc[r], p, vld1q_f32(vj + 4 * r));
                for (int r = 0; r < 8; r++) MVLM_PF_PIN(acc[r]);
                MVLM_MCA_END("attention_values_neon");
            }
        } else {
            for (int64_t j = 0; j < visible; j++) {
                float32x4_t p = vdupq_n_f32(scores[j]);
                const float *vj = v + j * kv_width + c0;
                for (int r = 0; r < n; r++) acc[r] = vfmaq_f32(acc[r], p, vld1q_f32(vj + 4 * r));
            }
        }
        for (int r = 0; r < n; r++) vst1q_f32(out + c0 + 4 * r, acc[r]);
    }
    for (int64_t c = d4; c < d; c++) {
        float s = 0;
        for (int64_t j = 0; j < visible; j++) s += scores[j] * v[j * kv_width + c];
        out[c] = s;
    }
}
#endif

int64_t mvlm_attention_rows_scratch_count(int64_t tokens, int64_t past) { return past + tokens; }

void mvlm_attention_rows(const float *q, const float *k, const float *v, float *out, int64_t tokens, int64_t past,
                         int64_t heads, int64_t kv_heads, int64_t head_dim, float scale, int causal, int64_t first_item,
                         int64_t last_item, float *scratch) {
    int64_t d = head_dim, q_width = heads * d, kv_width = kv_heads * d, group = heads / kv_heads;
    int level = mvlm_kernels_level();
    for (int64_t item = first_item; item < last_item; item++) {
        int64_t t = item / heads, h = item % heads;
        int64_t visible = causal ? past + t + 1 : past + tokens;
        const float *qt = q + t * q_width + h * d, *kh = k + (h / group) * d, *vh = v + (h / group) * d;
        float *ot = out + t * q_width + h * d;
#ifdef MVLM_X86
        if (level == 2) {
            attend_scores_avx512(qt, kh, visible, kv_width, d, scratch);
            softmax_avx512(scratch, visible, visible, scale);
            attend_values_avx512(vh, ot, visible, kv_width, d, scratch);
            continue;
        }
        if (level == 1) {
            attend_scores_avx2(qt, kh, visible, kv_width, d, scratch);
            softmax_avx2(scratch, visible, visible, scale);
            attend_values_avx2(vh, ot, visible, kv_width, d, scratch);
            continue;
        }
#endif
#ifdef MVLM_ARM
        if (level >= 1) {
            attend_scores_neon(qt, kh, visible, kv_width, d, scratch);
            softmax_neon(scratch, visible, visible, scale);
            attend_values_neon(vh, ot, visible, kv_width, d, scratch);
            continue;
        }
#endif
        (void)level;
        for (int64_t j = 0; j < visible; j++) {
            const float *kj = kh + j * kv_width;
            float s = 0;
            for (int64_t c = 0; c < d; c++) s += qt[c] * kj[c];
            scratch[j] = s;
        }
        softmax_portable(scratch, visible, visible, scale);
        for (int64_t c = 0; c < d; c++) ot[c] = 0;
        for (int64_t j = 0; j < visible; j++) {
            const float *vj = vh + j * kv_width;
            for (int64_t c = 0; c < d; c++) ot[c] += scratch[j] * vj[c];
        }
    }
}
