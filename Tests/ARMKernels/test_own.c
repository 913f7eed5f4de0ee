// The toolkit's own types (INT8_PC, AFFINE4_G32/G64/G128) in mvlm_matvec_q8 (decode) and
// mvlm_gemm_q8 (prefill) at every level this CPU has, against a Double reference written here: the
// weights decoded from their bytes by the format's definition (Formats/mvlm.md, docs/quantization.md),
// the activations by mvlm_quantize_q8_0's blocks (themselves checked in test_decode.c). Hostile
// inputs: saturated bytes under large scales, int8 -128 / +127, negative scales, odd row counts and
// ranges, odd token counts, a bias.
#include "harness.h"

static const int own_types[4] = {MVLM_Q8_INT8_PC, MVLM_Q8_AFFINE4_G32, MVLM_Q8_AFFINE4_G64, MVLM_Q8_AFFINE4_G128};
static const char *own_names[4] = {"INT8_PC", "AFFINE4_G32", "AFFINE4_G64", "AFFINE4_G128"};

static int group_of(int type) { return type == MVLM_Q8_AFFINE4_G32 ? 32 : type == MVLM_Q8_AFFINE4_G64 ? 64 : 128; }

static size_t own_row_bytes(int type, int n) {
    return type == MVLM_Q8_INT8_PC ? 4 + (size_t)n : (size_t)(n / group_of(type)) * (4 + group_of(type) / 2);
}

// Fills rows of weights; pattern 0 random, 1 saturated (0xFF under scales 10-60), 2 extremes
// (-128/+127, nibbles 0/15), 3 negative scales and mins.
static void own_fill(int type, int pattern, int rows, int n, uint8_t *w, rng_t *r) {
    size_t rb = own_row_bytes(type, n);
    for (int row = 0; row < rows; row++) {
        uint8_t *p = w + (size_t)row * rb;
        float s = pattern == 1 ? 10 + 50 * fabsf(rng_float(r)) : 0.001f + 0.05f * fabsf(rng_float(r));
        if (pattern == 3) s = -s;
        if (type == MVLM_Q8_INT8_PC) {
            memcpy(p, &s, 4);
            for (int i = 0; i < n; i++)
                p[4 + i] = pattern == 1 ? 0xFF : pattern == 2 ? (i % 2 ? 0x7F : 0x80) : (uint8_t)(rng_next(r) & 0xFF);
            continue;
        }
        int g = group_of(type);
        for (int k = 0; k < n / g; k++) {
            uint8_t *q = p + (size_t)k * (4 + g / 2);
            float gs = pattern == 1 ? 10 + 50 * fabsf(rng_float(r)) : 0.001f + 0.05f * fabsf(rng_float(r));
            float m = 0.4f * fabsf(rng_float(r));
            if (pattern == 3) gs = -gs, m = -m;
            uint16_t hs = harness_float_to_half(gs), hm = harness_float_to_half(m);
            memcpy(q, &hs, 2);
            memcpy(q + 2, &hm, 2);
            for (int i = 0; i < g / 2; i++)
                q[4 + i] = pattern == 1 ? 0xFF : pattern == 2 ? (i % 2 ? 0x0F : 0xF0) : (uint8_t)(rng_next(r) & 0xFF);
        }
    }
}

// Weight (row, i) from the bytes, by the format's definition.
static double own_weight(int type, const uint8_t *w, int n, int row, int i) {
    const uint8_t *p = w + (size_t)row * own_row_bytes(type, n);
    if (type == MVLM_Q8_INT8_PC) {
        float s;
        memcpy(&s, p, 4);
        return (double)s * (double)(int8_t)p[4 + i];
    }
    int g = group_of(type), within = i % g;
    const uint8_t *q = p + (size_t)(i / g) * (4 + g / 2);
    uint16_t hs, hm;
    memcpy(&hs, q, 2);
    memcpy(&hm, q + 2, 2);
    int nibble = within < g / 2 ? q[4 + within] & 0xF : q[4 + within - g / 2] >> 4;
    return (double)harness_half_to_float(hs) * nibble + (double)harness_half_to_float(hm);
}

// Activation i of Q8_0 blocks xq, as stored.
static double own_activation(const uint8_t *xq, int i) {
    const uint8_t *b = xq + (size_t)(i / 32) * 34;
    uint16_t h;
    memcpy(&h, b, 2);
    return (double)harness_half_to_float(h) * (double)(int8_t)b[2 + i % 32];
}

static void own_check_row(const char *what, int level, int type, double got, const uint8_t *w, int n, int row,
                          const uint8_t *xq, int token) {
    double exact = 0, magnitude = 0;
    for (int i = 0; i < n; i++) {
        double p = own_weight(type, w, n, row, i) * own_activation(xq, i);
        exact += p;
        magnitude += fabs(p);
    }
    CHECK(fabs(got - exact) <= 1e-5 * magnitude + 1e-30, "%s %s level %d row %d token %d: %.9g vs %.9g", what,
          own_names[type - MVLM_Q8_INT8_PC], level, row, token, got, exact);
}

void suite_own(void) {
    const int n = 128 * 3, rows = 37;
    rng_t r = {0x5EED0023};
    int top = harness_top_level();
    float *x = malloc(sizeof(float) * 13 * n);
    uint8_t *xq = malloc((size_t)13 * (n / 32) * 34);
    int32_t *xsum = malloc(sizeof(int32_t) * 13 * (n / 32));
    for (int i = 0; i < 13 * n; i++) x[i] = 2 * rng_float(&r);
    for (int t = 0; t < 13; t++) {
        for (int i = 0; i < 32; i++) x[t * n + i] = i % 2 ? -3.0f : 3.0f;  // saturated activation block
        for (int i = 32; i < 64; i++) x[t * n + i] = 0;
        mvlm_quantize_q8_0(x + t * n, xq + (size_t)t * (n / 32) * 34, xsum + t * (n / 32), n);
    }
    float *bias = malloc(sizeof(float) * rows);
    for (int i = 0; i < rows; i++) bias[i] = 0.125f * i - 2;
    for (int ti = 0; ti < 4; ti++) {
        int type = own_types[ti];
        uint8_t *w = malloc(own_row_bytes(type, n) * rows);
        for (int pattern = 0; pattern < 4; pattern++) {
            own_fill(type, pattern, rows, n, w, &r);
            for (int level = 0; level <= top; level++) {
                harness_use_level(level);
                float y[37];
                mvlm_matvec_q8(type, w, own_row_bytes(type, n), 0, 13, xq, xsum, n, y);
                mvlm_matvec_q8(type, w, own_row_bytes(type, n), 13, rows, xq, xsum, n, y);
                for (int row = 0; row < rows; row++) own_check_row("decode", level, type, y[row], w, n, row, xq, 0);
                for (int tokens = 1; tokens <= 13; tokens += 6) {
                    int64_t tiles = (tokens + 7) / 8;
                    uint8_t *xp = malloc((size_t)mvlm_gemm_q8_packed_bytes(tokens, n));
                    mvlm_gemm_q8_pack(x, tokens, n, 0, tiles, xp);
                    float *yy = malloc(sizeof(float) * tokens * rows);
                    int splits[4] = {0, 16, 21, rows};
                    for (int s = 0; s < 3; s++)
                        mvlm_gemm_q8(type, w, own_row_bytes(type, n), splits[s], splits[s + 1], xp, tokens, n, bias, yy, rows);
                    for (int t = 0; t < tokens; t++)
                        for (int row = 0; row < rows; row++)
                            own_check_row("prefill", level, type, (double)yy[t * rows + row] - bias[row], w, n, row,
                                          xq + (size_t)t * (n / 32) * 34, t);
                    free(yy);
                    free(xp);
                }
            }
            harness_use_level(-1);
        }
        free(w);
    }
    free(bias);
    free(xsum);
    free(xq);
    free(x);
}
