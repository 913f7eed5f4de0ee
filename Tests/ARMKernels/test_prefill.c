// Suite "prefill" of the kernel test program (harness.h): the quantized matrix products
// (mvlm_gemm_q8, mvlm_gemm_q8_rows16, mvlm_gemm_q8_pack), the float GEMM (mvlm_gemm_float) and
// attention (mvlm_attention, mvlm_attention_rows), at every level from 0 to the detected one.
//
// Quantized products: every level must give level 0's floats exactly (integer dot products are
// exact and every level repeats the portable kernel's f32 operations), the rows16 layout the
// row-major result, and all of them must be within a stated bound of a Double reference computed
// here from the GGUF blocks (dequantized by the block formats of docs/quantization.md) and the
// activations quantized to Q8_0 here.
#include "harness.h"

enum { Q4_0 = 0, Q8_0 = 1, Q4_K = 2, Q6_K = 3 };
static const int block_bytes[4] = {18, 34, 144, 210}, block_weights[4] = {32, 32, 256, 256};
static const char *type_names[4] = {"Q4_0", "Q8_0", "Q4_K", "Q6_K"};

// ---- a Double reference -----------------------------------------------------------------------

// Dequantizes one row of `k` weights (GGUF block formats).
static void dequantize_row(int type, const uint8_t *row, int64_t k, double *out) {
    for (int64_t u = 0; u < k / block_weights[type]; u++) {
        const uint8_t *b = row + u * block_bytes[type];
        double *o = out + u * block_weights[type];
        switch (type) {
        case Q4_0: {
            double d = harness_half_to_float((uint16_t)(b[0] | b[1] << 8));
            for (int j = 0; j < 16; j++) {
                o[j] = d * ((b[2 + j] & 15) - 8);
                o[j + 16] = d * ((b[2 + j] >> 4) - 8);
            }
            break;
        }
        case Q8_0: {
            double d = harness_half_to_float((uint16_t)(b[0] | b[1] << 8));
            for (int j = 0; j < 32; j++) o[j] = d * (int8_t)b[2 + j];
            break;
        }
        case Q4_K: {
            double d = harness_half_to_float((uint16_t)(b[0] | b[1] << 8));
            double dmin = harness_half_to_float((uint16_t)(b[2] | b[3] << 8));
            const uint8_t *s = b + 4, *qs = b + 16;
            for (int j = 0; j < 8; j++) {
                int sc, m;
                if (j < 4) {
                    sc = s[j] & 63;
                    m = s[j + 4] & 63;
                } else {
                    sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
                    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
                }
                for (int l = 0; l < 32; l++) {
                    int q = j % 2 ? qs[32 * (j / 2) + l] >> 4 : qs[32 * (j / 2) + l] & 15;
                    o[32 * j + l] = d * sc * q - dmin * m;
                }
            }
            break;
        }
        default: {
            const uint8_t *ql = b, *qh = b + 128;
            const int8_t *sc = (const int8_t *)(b + 192);
            double d = harness_half_to_float((uint16_t)(b[208] | b[209] << 8));
            for (int n = 0; n < 2; n++) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int q1 = ((ql[64 * n + l] & 15) | (((qh[32 * n + l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[64 * n + l + 32] & 15) | (((qh[32 * n + l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[64 * n + l] >> 4) | (((qh[32 * n + l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[64 * n + l + 32] >> 4) | (((qh[32 * n + l] >> 6) & 3) << 4)) - 32;
                    o[128 * n + l] = d * sc[8 * n + is] * q1;
                    o[128 * n + l + 32] = d * sc[8 * n + is + 2] * q2;
                    o[128 * n + l + 64] = d * sc[8 * n + is + 4] * q3;
                    o[128 * n + l + 96] = d * sc[8 * n + is + 6] * q4;
                }
            }
            break;
        }
        }
    }
}

// Q8_0 of the activations as the packers must do it (llama.cpp's quantize_row_q8_0: d = max|x| /
// 127 stored as f16, q = round-half-away(x · (1 / d)), here 0 where that is not below 128 in
// magnitude), dequantized.
static void q8_activations(const float *x, int64_t k, double *out) {
    for (int64_t b = 0; b < k / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0;
        for (int i = 0; i < 32; i++)
            if (fabsf(v[i]) > amax) amax = fabsf(v[i]);
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        double dh = harness_half_to_float(harness_float_to_half(d));
        for (int i = 0; i < 32; i++) {
            float t = v[i] * id;
            out[32 * b + i] = fabsf(t) < 128 ? dh * roundf(t) : 0.0;
        }
    }
}

// rows16 (Formats/mvlm.md "Repacked layouts: rows16") of `rows` (a multiple of 16) row-major rows.
static void repack_rows16(int type, const uint8_t *w, int64_t rows, int64_t k, uint8_t *out) {
    static const int fields[4][5] = {{2, 16}, {2, 32}, {2, 2, 12, 128}, {128, 64, 16, 2}};
    int64_t units = k / block_weights[type], row_bytes = units * block_bytes[type], B = block_bytes[type];
    for (int64_t g = 0; g < rows / 16; g++)
        for (int64_t u = 0; u < units; u++) {
            uint8_t *rec = out + 16 * g * row_bytes + u * 16 * B;
            int o = 0;
            for (int f = 0; f < 5 && fields[type][f]; f++) {
                int size = fields[type][f];
                for (int r = 0; r < 16; r++) {
                    const uint8_t *src = w + (16 * g + r) * row_bytes + u * B + o;
                    if (size == 2) {
                        memcpy(rec + 16 * o + 2 * r, src, 2);
                    } else {
                        for (int c = 0; c < size / 4; c++) memcpy(rec + 16 * o + (16 * c + r) * 4, src + 4 * c, 4);
                    }
                }
                o += size;
            }
        }
}

// ---- data -------------------------------------------------------------------------------------

enum { W_RANDOM, W_SATURATED, W_HUGE, W_SUBNORMAL, W_KINDS };

// Random blocks of `type`; `kind` chooses hostile ones: saturated codes (every quant at its extreme,
// alternating per block), huge scales (f16 65504 and near), subnormal scales (f16 1..1023).
static void make_weights(rng_t *r, int type, int kind, int64_t rows, int64_t k, uint8_t *w) {
    int64_t units = k / block_weights[type], n = rows * units;
    rng_bytes(r, w, (size_t)(n * block_bytes[type]));
    for (int64_t i = 0; i < n; i++) {
        uint8_t *b = w + i * block_bytes[type];
        uint16_t scale;
        switch (kind) {
        case W_HUGE: scale = (uint16_t)(0x7BFF - (rng_next(r) & 7)); break;
        case W_SUBNORMAL: scale = (uint16_t)(1 + rng_next(r) % 1023); break;
        default: scale = harness_float_to_half(0.001f + 0.05f * fabsf(rng_float(r)));
        }
        if (kind == W_SATURATED) {
            int high = (int)(i & 1);
            uint8_t fill = type == Q8_0 ? (high ? 0x7F : 0x80) : (high ? 0xFF : 0x00);
            if (type == Q4_K) memset(b + 16, fill, 128);
            else if (type == Q6_K) memset(b, fill, 192);
            else memset(b + 2, fill, (size_t)block_bytes[type] - 2);
        }
        if (rng_next(r) % 2) scale |= 0x8000;  // negative scales too
        switch (type) {
        case Q4_0:
        case Q8_0: memcpy(b, &scale, 2); break;
        case Q4_K: {
            uint16_t dmin = kind == W_HUGE ? scale : harness_float_to_half(0.01f * fabsf(rng_float(r)));
            memcpy(b, &scale, 2);
            memcpy(b + 2, &dmin, 2);
            break;
        }
        default: memcpy(b + 208, &scale, 2); break;
        }
    }
}

enum { X_NORMAL, X_SATURATED, X_MIXED, X_KINDS };

// Activations: normal; saturated (±amax in every block, so codes of ±127); mixed (zero rows,
// blocks with one outlier, tiny values whose scale is not an f16 normal, a NaN).
static void make_activations(rng_t *r, int kind, int64_t tokens, int64_t k, float *x) {
    for (int64_t i = 0; i < tokens * k; i++) {
        switch (kind) {
        case X_SATURATED: x[i] = rng_next(r) % 2 ? 3.0f : -3.0f; break;
        default: x[i] = rng_normal(r, 1.0f);
        }
    }
    if (kind != X_MIXED) return;
    for (int64_t t = 0; t < tokens; t++) {
        float *row = x + t * k;
        switch (t % 5) {
        case 0: memset(row, 0, (size_t)k * 4); break;
        case 1: row[(t * 7) % k] = 1000.0f; break;
        case 2:
            for (int64_t j = 0; j < k; j++) row[j] *= 1e-30f;
            break;
        case 3: row[(t * 13) % k] = NAN; break;
        default: break;
        }
    }
}

static int same_float(float a, float b) { return a == b || (isnan(a) && isnan(b)); }

// One case: rows x tokens x k of `type`; every level against level 0, rows16 against row-major,
// and level 0 against the Double reference.
static void gemm_q8_case(int type, int wkind, int xkind, int64_t tokens, int64_t rows, int64_t k, uint64_t seed) {
    rng_t r = {seed};
    int64_t row_bytes = k / block_weights[type] * block_bytes[type];
    uint8_t *w = malloc((size_t)(rows * row_bytes)), *w16 = malloc((size_t)(rows * row_bytes));
    float *x = malloc((size_t)(tokens * k) * 4), *bias = malloc((size_t)rows * 4);
    make_weights(&r, type, wkind, rows, k, w);
    make_activations(&r, xkind, tokens, k, x);
    for (int64_t n = 0; n < rows; n++) bias[n] = rng_float(&r);
    int has16 = rows % 16 == 0;
    if (has16) repack_rows16(type, w, rows, k, w16);
    int64_t ldy = rows + 3;  // a stride wider than the row range
    size_t ybytes = (size_t)(tokens * ldy) * 4, pbytes = (size_t)mvlm_gemm_q8_packed_bytes(tokens, k);
    float *y0 = malloc(ybytes), *y = malloc(ybytes);
    uint8_t *xp0 = malloc(pbytes), *xp = malloc(pbytes);
    int64_t tiles = (tokens + 7) / 8;
    const char *name = type_names[type];
    int top = harness_top_level();

    harness_use_level(0);
    mvlm_gemm_q8_pack(x, tokens, k, 0, tiles, xp0);
    for (int64_t i = 0; i < tokens * ldy; i++) y0[i] = -7.0f;
    mvlm_gemm_q8(type, w, (size_t)row_bytes, 0, rows, xp0, tokens, k, bias, y0, ldy);

    // The Double reference (level 0; the other levels are compared to level 0 exactly).
    double *wd = malloc((size_t)k * 8), *xd = malloc((size_t)(tokens * k) * 8);
    for (int64_t t = 0; t < tokens; t++) q8_activations(x + t * k, k, xd + t * k);
    long bad = 0;
    for (int64_t n = 0; n < rows && bad < 3; n++) {
        dequantize_row(type, w + n * row_bytes, k, wd);
        for (int64_t t = 0; t < tokens; t++) {
            double s = bias[n], mag = fabs(bias[n]);
            for (int64_t j = 0; j < k; j++) {
                s += wd[j] * xd[t * k + j];
                mag += fabs(wd[j] * xd[t * k + j]);
            }
            // f32: one rounding per sub-block product and sum, a few for the scales: k/16 · 2^-23.
            double bound = (double)(k / 16 + 4) * 0x1p-23 * mag + 1e-30;
            double got = y0[t * ldy + n];
            int ok = isinf(s) || fabs(s) > 3e38 ? !isnan(got) && (isinf(got) || fabs(got - s) <= bound) : fabs(got - s) <= bound;
            if (!ok) bad++;
            CHECK(ok, "%s w%d x%d %lldx%lldx%lld level 0: y[%lld,%lld] = %.9g, Double reference %.9g (bound %.3g)", name, wkind, xkind,
                  (long long)tokens, (long long)rows, (long long)k, (long long)t, (long long)n, got, s, bound);
        }
    }
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t n = rows; n < ldy; n++) CHECK(y0[t * ldy + n] == -7.0f, "%s level 0 wrote past its rows", name);

    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        mvlm_gemm_q8_pack(x, tokens, k, 0, tiles, xp);
        CHECK(!memcmp(xp, xp0, pbytes), "%s level %d: packed activations differ from level 0's (tokens %lld k %lld)", name, level,
              (long long)tokens, (long long)k);
        for (int pass = 0; pass < 1 + has16; pass++) {
            for (int64_t i = 0; i < tokens * ldy; i++) y[i] = -7.0f;
            if (pass == 0) {
                // In two row ranges, as threads split the work (the split not at a multiple of 8).
                int64_t mid = rows > 20 ? 20 : rows / 2;
                mvlm_gemm_q8(type, w, (size_t)row_bytes, 0, mid, xp, tokens, k, bias, y, ldy);
                mvlm_gemm_q8(type, w, (size_t)row_bytes, mid, rows, xp, tokens, k, bias, y, ldy);
            } else {
                mvlm_gemm_q8_rows16(type, w16, (size_t)row_bytes, 0, rows, xp, tokens, k, bias, y, ldy);
            }
            long diff = 0;
            int64_t first = -1;
            for (int64_t i = 0; i < tokens * ldy; i++)
                if (!same_float(y[i], y0[i])) {
                    if (first < 0) first = i;
                    diff++;
                }
            CHECK(diff == 0, "%s%s w%d x%d %lldx%lldx%lld level %d: %ld outputs differ from level 0 (first [%lld,%lld]: %.9g vs %.9g)",
                  name, pass ? " rows16" : "", wkind, xkind, (long long)tokens, (long long)rows, (long long)k, level, diff,
                  (long long)(first / ldy), (long long)(first % ldy), first >= 0 ? y[first] : 0.0, first >= 0 ? y0[first] : 0.0);
        }
    }
    harness_use_level(-1);
    free(w), free(w16), free(x), free(bias), free(y0), free(y), free(xp0), free(xp), free(wd), free(xd);
}

static void suite_gemm_q8(void) {
    uint64_t seed = 1;
    for (int type = 0; type < 4; type++) {
        int K = type >= Q4_K;
        int64_t k_small = K ? 256 : 96, k_odd = K ? 768 : 288, k_long = K ? 1024 : 608;  // 608: 19 blocks, past a 16-block chunk
        // The vision tower's 577 tokens.
        gemm_q8_case(type, W_RANDOM, X_NORMAL, 577, 32, k_small, seed++);
        // One token, odd token counts, rows not a multiple of 16 (row-major only), long rows.
        gemm_q8_case(type, W_RANDOM, X_NORMAL, 1, 16, k_odd, seed++);
        gemm_q8_case(type, W_RANDOM, X_MIXED, 13, 40, k_odd, seed++);
        gemm_q8_case(type, W_RANDOM, X_NORMAL, 7, 21, k_long, seed++);
        gemm_q8_case(type, W_RANDOM, X_NORMAL, 3, 48, k_long, seed++);
        for (int wkind = 1; wkind < W_KINDS; wkind++)
            for (int xkind = 0; xkind < X_KINDS; xkind++) gemm_q8_case(type, wkind, xkind, 9, 32, k_small, seed++);
    }
}

void suite_prefill(void) {
    long before = harness_failed;
    suite_gemm_q8();
    printf("prefill: gemm_q8 %s\n", harness_failed == before ? "ok" : "FAILED");
}
