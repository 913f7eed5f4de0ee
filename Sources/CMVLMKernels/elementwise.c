// Elementwise activations of the language model, vectorized: SwiGLU's silu(g) · u.
//
// silu(g) = g · sigmoid(g), with sigmoid from e = e^-|g| (an argument <= 0, the range the vector
// exp covers): 1 / (1 + e) for g >= 0, e / (1 + e) for g < 0. Past |g| = 87 (where the vector exp
// clamps its argument) e is (e^-|g|/2)², which underflows towards 0 as e^-|g| does. Within a few
// ulp of the portable g / (1 + expf(-g)) (the tests bound it against a Double reference).

#include "internal.h"
#include "mvlm_kernels.h"

#ifdef MVLM_X86
MVLM_AVX512 static void silu_mul_avx512(const float *g, const float *u, float *out, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, g + i), y = _mm512_maskz_loadu_ps(m, u + i);
        __m512 a = _mm512_abs_ps(x), e = exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), a));
        __mmask16 far = _mm512_cmp_ps_mask(a, _mm512_set1_ps(87.0f), _CMP_GT_OQ);
        if (far) {
            __m512 h = exp_avx512(_mm512_mul_ps(a, _mm512_set1_ps(-0.5f)));
            e = _mm512_mask_mul_ps(e, far, h, h);
        }
        __m512 inv = _mm512_div_ps(one, _mm512_add_ps(one, e));
        __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
        __m512 sigmoid = _mm512_mask_mul_ps(inv, negative, inv, e);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_mul_ps(x, sigmoid), y));
    }
}

MVLM_AVX2 static void silu_mul_avx2(const float *g, const float *u, float *out, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(g + i), y = _mm256_loadu_ps(u + i);
        __m256 e = exp_avx2(_mm256_or_ps(x, sign));  // e^-|x|
        __m256 far = _mm256_cmp_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(87.0f), _CMP_GT_OQ);
        if (_mm256_movemask_ps(far)) {
            __m256 h = exp_avx2(_mm256_mul_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(-0.5f)));
            e = _mm256_blendv_ps(e, _mm256_mul_ps(h, h), far);
        }
        __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
        __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
        __m256 sigmoid = _mm256_blendv_ps(inv, _mm256_mul_ps(inv, e), negative);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(x, sigmoid), y));
    }
    for (; i < n; i++) out[i] = g[i] / (1 + expf(-g[i])) * u[i];
}
#endif

void mvlm_silu_mul(const float *g, const float *u, float *out, int64_t n) {
#ifdef MVLM_X86
    int level = mvlm_kernels_level();
    if (level == 2) {
        silu_mul_avx512(g, u, out, n);
        return;
    }
    if (level == 1) {
        silu_mul_avx2(g, u, out, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) out[i] = g[i] / (1 + expf(-g[i])) * u[i];
}
