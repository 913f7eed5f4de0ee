// Suite "legacy" of the kernel test program (harness.h): Q5_0, Q4_1 and Q5_1 (matvec_legacy.c) at every
// level from 0 (portable) to the detected one.
//
// - mvlm_matvec_legacy (decode) against a Double reference dequantized here from the raw blocks
//   (Q5_0: d · (nibble | fifth bit << 4) - 16 · d; Q4_1: d · nibble + m; Q5_1: d · (nibble | fifth
//   bit << 4) + m) times the Q8_0 activations
//   dequantized here from mvlm_quantize_q8_0's bytes; rows outside [first, last) untouched.
// - mvlm_gemm_legacy (prefill) with activations packed by mvlm_gemm_q8_pack (the same Q8_0 values as
//   mvlm_quantize_q8_0 per token), 1, 3, 8 and 13 tokens, row ranges crossing the 64-row tile, with
//   and without bias, an output stride wider than the rows.
// - Hostile blocks: every nibble 15 with every fifth bit set (q = 31), every nibble 0 with no fifth
//   bit (q - 16 = -16), activations saturated at ±127; with every scale 1 (and integer Q4_1 mins)
//   the kernels' integer arithmetic must give the exact integer.
//
// The bound: integer dot products are exact; each block adds one f32 term of at most 3 rounded
// products (Q4_1: two terms), summed in some order, so with u = 2^-24 and M = Σ |w_i| |x_i| (Q4_1:
// |d q| + |m| per weight) the error is at most about (2 · blocks + 8) u M; we allow
// (3 · blocks + 32) u M + 1e-30.
#include "harness.h"

static const char *names[3] = {"Q5_0", "Q4_1", "Q5_1"};
static const int block_bytes[3] = {22, 20, 24};

static double h2d(const uint8_t *p) { return harness_half_to_float((uint16_t)(p[0] | p[1] << 8)); }

static void put_half(uint8_t *p, float f) {
    uint16_t h = harness_float_to_half(f);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

// Weights of one row (n values) and the magnitudes that bound their terms.
static void dequantize(int type, const uint8_t *row, int64_t n, double *w, double *a) {
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = row + b * block_bytes[type];
        double d = h2d(blk);
        for (int j = 0; j < 32; j++) {
            int i = (int)(b * 32 + j);
            if (type == MVLM_LEGACY_Q5_0) {
                uint32_t qh = (uint32_t)blk[2] | (uint32_t)blk[3] << 8 | (uint32_t)blk[4] << 16 | (uint32_t)blk[5] << 24;
                int nib = j < 16 ? blk[6 + j] & 15 : blk[6 + j - 16] >> 4;
                int q = nib | (int)((qh >> j) & 1) << 4;
                w[i] = d * (q - 16);
                a[i] = fabs(w[i]);
            } else if (type == MVLM_LEGACY_Q5_1) {
                uint32_t qh = (uint32_t)blk[4] | (uint32_t)blk[5] << 8 | (uint32_t)blk[6] << 16 | (uint32_t)blk[7] << 24;
                int nib = j < 16 ? blk[8 + j] & 15 : blk[8 + j - 16] >> 4;
                int q = nib | (int)((qh >> j) & 1) << 4;
                double m = h2d(blk + 2);
                w[i] = d * q + m;
                a[i] = fabs(d * q) + fabs(m);
            } else {
                int q = j < 16 ? blk[4 + j] & 15 : blk[4 + j - 16] >> 4;
                double m = h2d(blk + 2);
                w[i] = d * q + m;
                a[i] = fabs(d * q) + fabs(m);
            }
        }
    }
}

// Q8_0 activations dequantized from mvlm_quantize_q8_0's blocks.
static void activations(const uint8_t *xq, int64_t n, double *x) {
    for (int64_t b = 0; b < n / 32; b++)
        for (int j = 0; j < 32; j++) x[b * 32 + j] = h2d(xq + b * 34) * (int8_t)xq[b * 34 + 2 + j];
}

// Random blocks; mode 1: saturated high (q = 31 / 15), mode 2: saturated low (q = 0), mode 3: all
// scales 1 (Q4_1 mins integers in -16...15) with random nibbles and bits.
static void make_rows(int type, rng_t *r, int64_t rows, int64_t n, int mode, uint8_t *w) {
    for (int64_t b = 0; b < rows * (n / 32); b++) {
        uint8_t *blk = w + b * block_bytes[type];
        rng_bytes(r, blk, (size_t)block_bytes[type]);
        float d = mode == 3 ? 1.0f : rng_normal(r, 0.02f);
        put_half(blk, d);
        if (type != MVLM_LEGACY_Q5_0) put_half(blk + 2, mode == 3 ? (float)((int)(rng_next(r) % 32) - 16) : rng_normal(r, 0.1f));
        int payload = type == MVLM_LEGACY_Q5_0 ? 2 : 4, length = block_bytes[type] - payload;
        if (mode == 1) memset(blk + payload, 0xFF, (size_t)length);
        if (mode == 2) memset(blk + payload, 0x00, (size_t)length);
    }
}

// Activations: random normal; mode 1: every block saturated (one value ±127, the others ±127 or
// random integers), exactly representable with scale 1.
static void make_x(rng_t *r, int64_t count, int mode, float *x) {
    for (int64_t i = 0; i < count; i++) {
        if (mode == 0) {
            x[i] = rng_normal(r, 1.0f);
        } else {
            int v = (int)(rng_next(r) % 255) - 127;
            x[i] = (i % 32 == 0 || rng_next(r) % 3 == 0) ? ((rng_next(r) & 1) ? 127.0f : -127.0f) : (float)v;
        }
    }
}

static void check_decode(int type, int64_t rows, int64_t n, int64_t first, int64_t last, int wmode, int xmode, uint64_t seed) {
    rng_t r = {seed};
    size_t row_bytes = (size_t)(n / 32 * block_bytes[type]);
    uint8_t *w = malloc(row_bytes * (size_t)rows), *xq = malloc((size_t)(n / 32 * 34));
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)rows);
    int32_t *xsum = malloc(sizeof(int32_t) * (size_t)(n / 32));
    double *wd = malloc(sizeof(double) * (size_t)n), *ad = malloc(sizeof(double) * (size_t)n), *xd = malloc(sizeof(double) * (size_t)n);
    make_rows(type, &r, rows, n, wmode, w);
    make_x(&r, n, xmode, x);
    harness_use_level(-1);
    int top = harness_top_level();
    harness_use_level(0);
    mvlm_quantize_q8_0(x, xq, xsum, n);
    activations(xq, n, xd);
    int exact = wmode == 3 && xmode == 1;
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        for (int64_t i = 0; i < rows; i++) y[i] = NAN;
        mvlm_matvec_legacy(type, w, row_bytes, first, last, xq, xsum, n, y);
        for (int64_t i = 0; i < rows; i++) {
            if (i < first || i >= last) {
                CHECK(isnan(y[i]), "%s decode level %d: row %lld outside [%lld, %lld) was written", names[type], level,
                      (long long)i, (long long)first, (long long)last);
                continue;
            }
            dequantize(type, w + (size_t)i * row_bytes, n, wd, ad);
            double ref = 0, mag = 0;
            for (int64_t j = 0; j < n; j++) {
                ref += wd[j] * xd[j];
                mag += ad[j] * fabs(xd[j]);
            }
            double bound = (3.0 * (double)(n / 32) + 32) * 0x1p-24 * mag + 1e-30;
            if (exact)
                CHECK((double)y[i] == ref, "%s decode level %d n %lld row %lld: %.9g, exactly %.9g expected", names[type], level,
                      (long long)n, (long long)i, y[i], ref);
            else
                CHECK(fabs((double)y[i] - ref) <= bound, "%s decode level %d n %lld row %lld (modes %d/%d): %.9g vs %.9g (bound %.3g)",
                      names[type], level, (long long)n, (long long)i, wmode, xmode, y[i], ref, bound);
        }
    }
    harness_use_level(-1);
    free(w), free(xq), free(x), free(y), free(xsum), free(wd), free(ad), free(xd);
}

static void check_prefill(int type, int64_t rows, int64_t n, int64_t tokens, int64_t first, int64_t last, int with_bias,
                          int wmode, int xmode, uint64_t seed) {
    rng_t r = {seed};
    size_t row_bytes = (size_t)(n / 32 * block_bytes[type]);
    int64_t ldy = rows + 3, blocks = n / 32;
    uint8_t *w = malloc(row_bytes * (size_t)rows), *xq = malloc((size_t)(blocks * 34));
    float *x = malloc(sizeof(float) * (size_t)(n * tokens)), *y = malloc(sizeof(float) * (size_t)(ldy * tokens));
    float *bias = malloc(sizeof(float) * (size_t)rows), *sums = malloc(sizeof(float) * (size_t)(blocks * tokens));
    int32_t *xsum = malloc(sizeof(int32_t) * (size_t)blocks);
    double *wd = malloc(sizeof(double) * (size_t)(n * rows)), *ad = malloc(sizeof(double) * (size_t)(n * rows));
    double *xd = malloc(sizeof(double) * (size_t)(n * tokens));
    void *xp = malloc((size_t)mvlm_gemm_q8_packed_bytes(tokens, n));
    void *scratch = malloc((size_t)mvlm_gemm_legacy_scratch_bytes(n));
    make_rows(type, &r, rows, n, wmode, w);
    make_x(&r, n * tokens, xmode, x);
    for (int64_t i = 0; i < rows; i++) bias[i] = with_bias ? rng_normal(&r, 1.0f) : 0;
    for (int64_t i = 0; i < rows; i++) dequantize(type, w + (size_t)i * row_bytes, n, wd + i * n, ad + i * n);
    harness_use_level(-1);
    int top = harness_top_level();
    harness_use_level(0);
    for (int64_t t = 0; t < tokens; t++) {
        mvlm_quantize_q8_0(x + t * n, xq, xsum, n);
        activations(xq, n, xd + t * n);
    }
    int exact = wmode == 3 && xmode == 1 && !with_bias;
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        for (int64_t i = 0; i < ldy * tokens; i++) y[i] = NAN;
        mvlm_gemm_q8_pack(x, tokens, n, 0, (tokens + 7) / 8, xp);
        mvlm_legacy_activation_sums(x, tokens, n, sums);
        mvlm_gemm_legacy(type, w, row_bytes, first, last, xp, sums, tokens, n, with_bias ? bias : NULL, y, ldy, scratch);
        int bad = 0;
        for (int64_t t = 0; t < tokens; t++) {
            for (int64_t i = 0; i < ldy; i++) {
                float v = y[t * ldy + i];
                if (i < first || i >= last) {
                    if (!isnan(v) && bad++ < 3)
                        CHECK(0, "%s prefill level %d: token %lld row %lld outside [%lld, %lld) was written", names[type], level,
                              (long long)t, (long long)i, (long long)first, (long long)last);
                    continue;
                }
                double ref = with_bias ? bias[i] : 0, mag = fabs(ref);
                for (int64_t j = 0; j < n; j++) {
                    ref += wd[i * n + j] * xd[t * n + j];
                    mag += ad[i * n + j] * fabs(xd[t * n + j]);
                }
                double bound = (3.0 * (double)blocks + 32) * 0x1p-24 * mag + 1e-30;
                int ok = exact ? (double)v == ref : fabs((double)v - ref) <= bound;
                if (!ok && bad++ < 3)
                    CHECK(0, "%s prefill level %d n %lld tokens %lld: token %lld row %lld: %.9g vs %.9g (bound %.3g%s)", names[type],
                          level, (long long)n, (long long)tokens, (long long)t, (long long)i, v, ref, bound, exact ? ", exact" : "");
            }
        }
        CHECK(bad == 0, "%s prefill level %d n %lld tokens %lld rows [%lld, %lld): %d outputs wrong", names[type], level, (long long)n,
              (long long)tokens, (long long)first, (long long)last, bad);
    }
    harness_use_level(-1);
    free(w), free(xq), free(x), free(y), free(bias), free(sums), free(xsum), free(wd), free(ad), free(xd), free(xp), free(scratch);
}

void suite_legacy(void) {
    long before = harness_failed, checks = harness_passed;
    uint64_t seed = 2300;
    for (int type = 0; type < 3; type++) {
        // Shapes: one block, an odd number of blocks, SmolLM2's 576 and 1536; odd row counts and ranges.
        check_decode(type, 7, 32, 0, 7, 0, 0, seed++);
        check_decode(type, 9, 96, 1, 8, 0, 0, seed++);
        check_decode(type, 13, 576, 2, 13, 0, 0, seed++);
        check_decode(type, 5, 1536, 0, 5, 0, 0, seed++);
        for (int wmode = 1; wmode <= 3; wmode++) {
            check_decode(type, 5, 160, 0, 5, wmode, 1, seed++);
            check_decode(type, 5, 160, 1, 4, wmode, 0, seed++);
        }
        // Prefill: 1, 3, 8 and 13 tokens; 70 rows (a whole 64-row tile and a partial one) and ranges
        // starting inside it.
        check_prefill(type, 70, 96, 1, 0, 70, 1, 0, 0, seed++);
        check_prefill(type, 70, 576, 3, 5, 69, 0, 0, 0, seed++);
        check_prefill(type, 33, 160, 8, 16, 33, 1, 0, 0, seed++);
        check_prefill(type, 70, 64, 13, 0, 70, 1, 0, 0, seed++);
        check_prefill(type, 40, 128, 13, 0, 40, 0, 1, 1, seed++);
        check_prefill(type, 40, 128, 9, 3, 37, 0, 2, 1, seed++);
        check_prefill(type, 40, 128, 11, 0, 40, 0, 3, 1, seed++);
    }
    printf("legacy: q5_0, q4_1, q5_1 decode and prefill %s (%ld checks)\n", harness_failed == before ? "ok" : "FAILED",
           harness_passed + harness_failed - checks - before);
}
