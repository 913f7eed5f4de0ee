// Elementwise activations, vectorized: SwiGLU's silu(g) · u (the language model) and CLIP's
// quick-GELU x · sigmoid(1.702 x) (the vision tower).
//
// silu(g) = g · sigmoid(g), with sigmoid from e = e^-|g| (an argument <= 0, the range the vector
// exp covers): 1 / (1 + e) for g >= 0, e / (1 + e) for g < 0. Past |g| = 87 (where the vector exp
// clamps its argument) e is (e^-|g|/2)², which underflows towards 0 as e^-|g| does. Within a few
// ulp of the portable g / (1 + expf(-g)) (the tests bound it against a Double reference).
// quick-GELU is the same sigmoid at z = 1.702 x.

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

MVLM_AVX512 static void quick_gelu_avx512(const float *x, float *out, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i), z = _mm512_mul_ps(v, _mm512_set1_ps(1.702f));
        __m512 a = _mm512_abs_ps(z), e = exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), a));
        __mmask16 far = _mm512_cmp_ps_mask(a, _mm512_set1_ps(87.0f), _CMP_GT_OQ);
        if (far) {
            __m512 h = exp_avx512(_mm512_mul_ps(a, _mm512_set1_ps(-0.5f)));
            e = _mm512_mask_mul_ps(e, far, h, h);
        }
        __m512 inv = _mm512_div_ps(one, _mm512_add_ps(one, e));
        __mmask16 negative = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_LT_OQ);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(v, _mm512_mask_mul_ps(inv, negative, inv, e)));
    }
}

MVLM_AVX2 static void quick_gelu_avx2(const float *x, float *out, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), z = _mm256_mul_ps(v, _mm256_set1_ps(1.702f));
        __m256 e = exp_avx2(_mm256_or_ps(z, sign));  // e^-|z|
        __m256 far = _mm256_cmp_ps(_mm256_andnot_ps(sign, z), _mm256_set1_ps(87.0f), _CMP_GT_OQ);
        if (_mm256_movemask_ps(far)) {
            __m256 h = exp_avx2(_mm256_mul_ps(_mm256_andnot_ps(sign, z), _mm256_set1_ps(-0.5f)));
            e = _mm256_blendv_ps(e, _mm256_mul_ps(h, h), far);
        }
        __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
        __m256 negative = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(v, _mm256_blendv_ps(inv, _mm256_mul_ps(inv, e), negative)));
    }
    for (; i < n; i++) out[i] = x[i] / (1 + expf(-1.702f * x[i]));
}
#endif

#ifdef MVLM_ARM
// sigmoid(z) from e^-|z| (mvlm_pf_exp4), with e = (e^-|z|/2)² past |z| = 87.
MVLM_INLINE float32x4_t sigmoid_neon(float32x4_t z) {
    float32x4_t a = vabsq_f32(z), e = mvlm_pf_exp4(vnegq_f32(a));
    uint32x4_t far = vcgtq_f32(a, vdupq_n_f32(87.0f));
    if (vmaxvq_u32(far)) {
        float32x4_t h = mvlm_pf_exp4(vmulq_f32(a, vdupq_n_f32(-0.5f)));
        e = vbslq_f32(far, vmulq_f32(h, h), e);
    }
    float32x4_t inv = vdivq_f32(vdupq_n_f32(1.0f), vaddq_f32(vdupq_n_f32(1.0f), e));
    return vbslq_f32(vcltzq_f32(z), vmulq_f32(inv, e), inv);
}

static void silu_mul_neon(const float *g, const float *u, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t x = vld1q_f32(g + i), y = vld1q_f32(u + i);
        vst1q_f32(out + i, vmulq_f32(vmulq_f32(x, sigmoid_neon(x)), y));
    }
    for (; i < n; i++) out[i] = g[i] / (1 + expf(-g[i])) * u[i];
}

static void quick_gelu_neon(const float *x, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        vst1q_f32(out + i, vmulq_f32(v, sigmoid_neon(vmulq_f32(v, vdupq_n_f32(1.702f)))));
    }
    for (; i < n; i++) out[i] = x[i] / (1 + expf(-1.702f * x[i]));
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
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) {
        silu_mul_neon(g, u, out, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) out[i] = g[i] / (1 + expf(-g[i])) * u[i];
}

void mvlm_quick_gelu(const float *x, float *out, int64_t n) {
#ifdef MVLM_X86
    int level = mvlm_kernels_level();
    if (level == 2) {
        quick_gelu_avx512(x, out, n);
        return;
    }
    if (level == 1) {
        quick_gelu_avx2(x, out, n);
        return;
    }
#endif
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) {
        quick_gelu_neon(x, out, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) out[i] = x[i] / (1 + expf(-1.702f * x[i]));
}
