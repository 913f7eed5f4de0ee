// Attention as two matrix products per (head, block of 32 queries), through the float GEMM:
// scores S = Q Kᵀ (the keys are the "weights", rows kv_heads * d apart), a row softmax in place,
// then O = P V (the values as input-major f32 weights). Every query of the block scores every key
// up to the block's last visible one; keys a causal query may not see get probability 0.

#include "internal.h"
#include "mvlm_kernels.h"

enum { QUERY_BLOCK = 32 };

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
    for (int64_t item = first_item; item < last_item; item++) {
        int64_t h = item / blocks, t0 = (item % blocks) * QUERY_BLOCK;
        int64_t n = tokens - t0 < QUERY_BLOCK ? tokens - t0 : QUERY_BLOCK;
        int64_t keys = causal ? past + t0 + n : past + tokens;
        const float *kh = k + (h / group) * d, *vh = v + (h / group) * d;
        float *xq = scratch, *scores = xq + mvlm_gemm_float_packed_count(QUERY_BLOCK, d), *xp = scores + QUERY_BLOCK * keys;
        int64_t tiles = (n + 7) / 8;
        mvlm_gemm_float_pack_strided(q + t0 * q_width + h * d, q_width, n, d, 0, tiles, xq);
        mvlm_gemm_float(MVLM_WEIGHT_F32, kh, kv_width, 0, keys, xq, n, d, NULL, scores, keys);
        for (int64_t i = 0; i < n; i++) {
            float *row = scores + i * keys;
            int64_t visible = causal ? past + t0 + i + 1 : keys;
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
        mvlm_gemm_float_pack_strided(scores, keys, n, keys, 0, tiles, xp);
        mvlm_gemm_float(MVLM_WEIGHT_F32_TRANSPOSED, vh, kv_width, 0, d, xp, n, keys, NULL, out + t0 * q_width + h * d, q_width);
    }
}
