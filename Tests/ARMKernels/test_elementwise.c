// Suite "elementwise" of the kernel test program (harness.h): mvlm_silu_mul (SwiGLU) and
// mvlm_quick_gelu (CLIP) at every level from 0 to the detected one, against a Double reference:
// within 1e-6 relative (about 17 f32 ulp: the polynomial exp is within 2 ulp of expf, then a
// division and two products; for quick-GELU plus 2^-24 · |1.702 x| relative, the rounding of its
// argument) plus 1e-36 absolute (values near 0 for large negative x: the portable form's
// e^-x overflows past x = -88.7 and gives ±0 where the true value is at most 89 · e^-88.7 ≈ 3e-37;
// the vector code's e^-|x| = (e^-|x|/2)² keeps few bits where the result is an f32 subnormal). NaN where the reference is NaN (NaN input,
// silu(-inf)), infinities where it is infinite.
#include "harness.h"
#include "internal.h"  // the vector exp (mvlm_pf_exp4 on arm64, exp_avx2 on x86-64)

static int same_bits(float a, float b) { return !memcmp(&a, &b, 4); }

static double silu_ref(double g) { return g / (1 + exp(-g)); }
// The kernels multiply by 1.702 rounded to f32; the reference uses the same constant.
static double quick_gelu_ref(double x) { return x / (1 + exp(-(double)1.702f * x)); }

// Inputs: normal values, the exp clamp's neighbourhood (±87.3 / 1.702), overflow / underflow of
// e^-x (±100, ±1000), subnormals, ±0, ±infinity, NaN.
static void make_inputs(rng_t *r, float *x, int64_t n) {
    static const float special[] = {0.0f, -0.0f, 1e-40f, -1e-40f, 1e-30f, 87.0f, -87.0f, 87.3f, -87.3f, 88.0f, -88.0f,
                                    51.3f, -51.3f, 51.2f, -51.2f, 100.0f, -100.0f, 1000.0f, -1000.0f, 3e38f, -3e38f,
                                    INFINITY, -INFINITY, NAN, 20.0f, -20.0f, 1.0f, -1.0f};
    int specials = (int)(sizeof special / sizeof special[0]);
    for (int64_t i = 0; i < n; i++) {
        uint64_t pick = rng_next(r) % 8;
        x[i] = pick == 0 ? special[rng_next(r) % specials] : pick == 1 ? rng_float(r) * 120.0f : rng_normal(r, 4.0f);
    }
}

// `z` is the exponent's argument: quick-GELU's kernels round z = 1.702 x to f32 first, a relative
// error of 2^-24 · |z| in e^-z (exp's condition number is |z|), which the bound adds.
// `factor` scales the absolute term (SwiGLU's u).
static int agrees_at(double got, double want, double z, double factor) {
    if (isnan(want)) return isnan(got);
    if (isinf(want) || fabs(want) > 3.4028234663852886e38) return got == (want > 0 ? INFINITY : -INFINITY);
    return fabs(got - want) <= (1e-6 + fabs(z) * 0x1p-24) * fabs(want) + 1e-36 * factor;
}

static void elementwise_case(int64_t n, uint64_t seed) {
    rng_t r = {seed};
    float *level_out = malloc((size_t)n * 4), *g = malloc((size_t)n * 4), *u = malloc((size_t)n * 4), *out = malloc((size_t)n * 4), *level0 = malloc((size_t)n * 4);
    make_inputs(&r, g, n);
    for (int64_t i = 0; i < n; i++) u[i] = rng_normal(&r, 2.0f);
    int top = harness_top_level();
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        // SiLU · u, out of place and in place (out = g).
        for (int inplace = 0; inplace < 2; inplace++) {
            float *dst = out;
            if (inplace) {
                memcpy(out, g, (size_t)n * 4);
                mvlm_silu_mul(out, u, out, n);
            } else {
                mvlm_silu_mul(g, u, dst, n);
            }
            long bad = 0;
            int64_t first = -1;
            for (int64_t i = 0; i < n; i++) {
                double want = isinf(g[i]) && g[i] > 0 ? (double)g[i] * u[i] : silu_ref(g[i]) * u[i];
                if (!agrees_at(dst[i], want, 0, fabs(u[i]))) {
                    if (first < 0) first = i;
                    bad++;
                }
            }
            CHECK(bad == 0, "silu_mul n %lld level %d%s: %ld values off (first g = %.9g u = %.9g: %.9g, Double %.9g)", (long long)n, level,
                  inplace ? " in place" : "", bad, first >= 0 ? g[first] : 0.0, first >= 0 ? u[first] : 0.0, first >= 0 ? dst[first] : 0.0,
                  first >= 0 ? silu_ref(g[first]) * u[first] : 0.0);
        }
        // quick-GELU.
        mvlm_quick_gelu(g, out, n);
        long bad = 0;
        int64_t first = -1;
        for (int64_t i = 0; i < n; i++) {
            double want = isinf(g[i]) && g[i] > 0 ? INFINITY : quick_gelu_ref(g[i]);
            if (!agrees_at(out[i], want, 1.702 * g[i], 1)) {
                if (first < 0) first = i;
                bad++;
            }
        }
        CHECK(bad == 0, "quick_gelu n %lld level %d: %ld values off (first x = %.9g: %.9g, Double %.9g)", (long long)n, level, bad,
              first >= 0 ? g[first] : 0.0, first >= 0 ? out[first] : 0.0, first >= 0 ? quick_gelu_ref(g[first]) : 0.0);
        memcpy(level_out, out, (size_t)n * 4);
        if (level == 0) memcpy(level0, out, (size_t)n * 4);
        else {
            long far = 0;
            for (int64_t i = 0; i < n; i++) far += !agrees_at(out[i], level0[i], 2 * 1.702 * g[i], 2) && !(isnan(out[i]) && isnan(level0[i]));
            CHECK(far == 0, "quick_gelu n %lld level %d: %ld values differ from level 0 by more than the bound", (long long)n, level, far);
        }
        // In place: the same bits as out of place.
        memcpy(out, g, (size_t)n * 4);
        mvlm_quick_gelu(out, out, n);
        long differ = 0;
        for (int64_t i = 0; i < n; i++) differ += !same_bits(out[i], level_out[i]);
        CHECK(differ == 0, "quick_gelu in place n %lld level %d: %ld values off", (long long)n, level, differ);
    }
    harness_use_level(-1);
    free(g), free(u), free(out), free(level0), free(level_out);
}

// ulps between two floats of the same sign (both finite, positive here).
static int64_t ulps(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    return ia > ib ? (int64_t)ia - ib : (int64_t)ib - ia;
}

#ifdef MVLM_X86
MVLM_AVX2 static void exp8(const float *x, float *y) { _mm256_storeu_ps(y, exp_avx2(_mm256_loadu_ps(x))); }
#endif

// The vector e^x of softmax / SiLU / quick-GELU against expf (and a Double exp) over [-87.3, 0],
// every 2^-12 step, plus both ends: within 2 ulp of the correctly rounded value where the result
// is an f32 normal, as the header comment states.
static void vector_exp(void) {
    int64_t worst = 0;
    float at = 0;
    long count = 0, compared = 0;
#if defined(MVLM_ARM) || defined(MVLM_X86)
#ifdef MVLM_X86
    if (harness_top_level() < 1) return;
#endif
    for (double x0 = -87.3; x0 <= 0; x0 += 4 * 0x1p-12) {
        float x[8], y[8];
        for (int i = 0; i < 8; i++) x[i] = (float)(x0 + i * 0x1p-12 > 0 ? 0 : x0 + i * 0x1p-12);
#ifdef MVLM_ARM
        for (int h = 0; h < 2; h++) vst1q_f32(y + 4 * h, mvlm_pf_exp4(vld1q_f32(x + 4 * h)));
#else
        exp8(x, y);
#endif
        for (int i = 0; i < 8; i++, count++) {
            float want = (float)exp((double)x[i]);
            if (want < 1.17549435e-38f) continue;  // subnormal results: few bits either way
            compared++;
            int64_t u = ulps(y[i], want);
            if (u > worst) worst = u, at = x[i];
        }
    }
    CHECK(worst <= 2 && compared > 100000, "vector exp: %lld ulp from the correctly rounded e^x at x = %.9g (%ld values)",
          (long long)worst, at, compared);
    if (harness_verbose) printf("vector exp: worst %lld ulp (x = %.9g) over %ld values\n", (long long)worst, at, compared);
#endif
    (void)ulps;
    (void)count;
}

void suite_elementwise(void) {
    long before = harness_failed;
    vector_exp();
    elementwise_case(1, 300);
    elementwise_case(3, 301);
    elementwise_case(17, 302);
    elementwise_case(4096 + 13, 303);
    elementwise_case(577 * 37, 304);
    printf("elementwise: silu_mul, quick_gelu %s\n", harness_failed == before ? "ok" : "FAILED");
}
