// IQ4_NL kernels (iq4nl.c) at every level this CPU has: decode (mvlm_matvec_q8 type 4) and prefill
// (mvlm_gemm_iq4nl) against a Double reference written here (weights d · grid[index], activations
// the Q8_0 blocks' d · q), and on arm64 every vector level bitwise equal to level 0 (the same
// integer sums and the same float epilogue). Hostile blocks: all indices 0 (grid -127) under
// ±65504 scales, subnormal and zero scales; activations saturated at ±127.
#include "harness.h"

static const int grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static double h2d_iq(const uint8_t *p) { return harness_half_to_float((uint16_t)(p[0] | p[1] << 8)); }

static void make_iq4nl(int kind, int64_t rows, int64_t n, rng_t *rng, uint8_t *w) {
    int64_t blocks = rows * n / 32;
    rng_bytes(rng, w, (size_t)blocks * 18);
    static const uint16_t hostile[] = {0x7BFF, 0xFBFF, 0x0001, 0x83FF, 0x0000, 0x3C00};
    for (int64_t b = 0; b < blocks; b++) {
        uint8_t *blk = w + b * 18;
        uint16_t h = harness_float_to_half(rng_normal(rng, 0.02f));
        if (kind == 1) {  // every index 0: the largest magnitude, under the largest scales
            memset(blk + 2, 0, 16);
            h = b % 2 ? 0x7BFF : 0xFBFF;
        } else if (kind == 2) {
            h = hostile[b % 6];
        }
        blk[0] = (uint8_t)(h & 0xFF);
        blk[1] = (uint8_t)(h >> 8);
    }
}

static double reference_dot(const uint8_t *row, const uint8_t *xq, int64_t n, double *magnitude) {
    double sum = 0, mag = 0;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *wb = row + b * 18, *xb = xq + b * 34;
        double dw = h2d_iq(wb), dx = h2d_iq(xb);
        for (int j = 0; j < 32; j++) {
            int index = j < 16 ? wb[2 + j] & 0xF : wb[2 + j - 16] >> 4;
            double p = dw * grid[index] * dx * (int8_t)xb[2 + j];
            sum += p;
            mag += fabs(p);
        }
    }
    *magnitude = mag;
    return sum;
}

static void decode_suite(rng_t *rng) {
    enum { ROWS = 37, N = 32 * 23 };
    static uint8_t w[ROWS * N / 32 * 18], xq[N / 32 * 34];
    static float x[N], y[ROWS], y0[ROWS];
    int32_t xsum[N / 32];
    int top = harness_top_level();
    for (int kind = 0; kind < 3; kind++) {
        for (int xkind = 0; xkind < 3; xkind++) {
            make_iq4nl(kind, ROWS, N, rng, w);
            for (int i = 0; i < N; i++) x[i] = xkind == 0 ? rng_normal(rng, 1.0f) : xkind == 1 ? 127.0f : (i % 2 ? -127.0f : 127.0f);
            harness_use_level(0);
            mvlm_quantize_q8_0(x, xq, xsum, N);
            for (int level = 0; level <= top; level++) {
                harness_use_level(level);
                for (int r = 0; r < ROWS; r++) y[r] = 12345.5f;
                mvlm_matvec_q8(4, w, N / 32 * 18, 0, 5, xq, xsum, N, y);
                mvlm_matvec_q8(4, w, N / 32 * 18, 5, ROWS, xq, xsum, N, y);
                if (level == 0) memcpy(y0, y, sizeof y);
                for (int r = 0; r < ROWS; r++) {
                    double magnitude, exact = reference_dot(w + (size_t)r * (N / 32 * 18), xq, N, &magnitude);
                    int ok = isfinite(exact) ? fabs((double)y[r] - exact) <= 1e-5 * magnitude + 1e-30 : !isfinite(y[r]);
                    CHECK(ok, "IQ4_NL decode level %d weights %d activations %d row %d: %g vs %g", level, kind, xkind, r, y[r], exact);
#if defined(__aarch64__)
                    CHECK(memcmp(&y[r], &y0[r], 4) == 0 || (isnan(y[r]) && isnan(y0[r])),
                          "IQ4_NL decode level %d row %d differs from level 0: %g vs %g", level, r, y[r], y0[r]);
#endif
                }
            }
        }
    }
    harness_use_level(-1);
}

static void prefill_suite(rng_t *rng) {
    enum { ROWS = 45, N = 32 * 21, T = 11 };
    static uint8_t w[ROWS * N / 32 * 18], xq[T][N / 32 * 34];
    static float x[T * N], y[T * ROWS], bias[ROWS];
    int32_t xsum[N / 32];
    int top = harness_top_level();
    int64_t packed_bytes = mvlm_gemm_q8_packed_bytes(T, N);
    uint8_t *packed = malloc((size_t)packed_bytes), *scratch = malloc((size_t)mvlm_gemm_iq4nl_scratch_bytes(N));
    for (int r = 0; r < ROWS; r++) bias[r] = (float)r - 7.5f;
    for (int kind = 0; kind < 3; kind++) {
        make_iq4nl(kind, ROWS, N, rng, w);
        for (int i = 0; i < T * N; i++) x[i] = rng_normal(rng, 1.0f);
        harness_use_level(0);
        for (int t = 0; t < T; t++) mvlm_quantize_q8_0(x + t * N, xq[t], xsum, N);
        for (int level = 0; level <= top; level++) {
            harness_use_level(level);
            mvlm_gemm_q8_pack(x, T, N, 0, (T + 7) / 8, packed);
            for (int i = 0; i < T * ROWS; i++) y[i] = 12345.5f;
            mvlm_gemm_iq4nl(w, N / 32 * 18, 0, 16, packed, T, N, bias, y, ROWS, scratch);
            mvlm_gemm_iq4nl(w, N / 32 * 18, 16, ROWS, packed, T, N, bias, y, ROWS, scratch);
            for (int t = 0; t < T; t++) {
                for (int r = 0; r < ROWS; r++) {
                    double magnitude, exact = reference_dot(w + (size_t)r * (N / 32 * 18), xq[t], N, &magnitude) + bias[r];
                    magnitude += fabs(bias[r]);
                    double got = y[t * ROWS + r];
                    int ok = isfinite(exact) ? fabs(got - exact) <= 1e-5 * magnitude + 1e-30 : !isfinite(got);
                    CHECK(ok, "IQ4_NL prefill level %d weights %d token %d row %d: %g vs %g", level, kind, t, r, got, exact);
                }
            }
        }
    }
    harness_use_level(-1);
    free(packed);
    free(scratch);
}

void suite_iq4nl(void) {
    rng_t rng = {20261208};
    decode_suite(&rng);
    prefill_suite(&rng);
}
