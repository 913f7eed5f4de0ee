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

// ---- float GEMM ---------------------------------------------------------------------------------

static const char *float_names[4] = {"f32", "f16", "bf16", "f32 transposed"};

static uint16_t to_bf16(float f) {  // round to nearest even (finite inputs)
    uint32_t b;
    memcpy(&b, &f, 4);
    return (uint16_t)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
}

static double weight_at(int type, const void *w, int64_t ldw, int64_t n, int64_t j) {
    switch (type) {
    case MVLM_WEIGHT_F16: return harness_half_to_float(((const uint16_t *)w)[n * ldw + j]);
    case MVLM_WEIGHT_BF16: {
        uint32_t b = (uint32_t)((const uint16_t *)w)[n * ldw + j] << 16;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    case MVLM_WEIGHT_F32_TRANSPOSED: return ((const float *)w)[j * ldw + n];
    default: return ((const float *)w)[n * ldw + j];
    }
}

// hostile: 0 random; 1 subnormal f16 / tiny weights and huge activations; 2 a NaN and an infinity
// among the weights (the rows they touch must be NaN / infinite exactly as at level 0).
static void gemm_float_case(int type, int hostile, int64_t tokens, int64_t rows, int64_t k, uint64_t seed) {
    rng_t r = {seed};
    int transposed = type == MVLM_WEIGHT_F32_TRANSPOSED;
    int64_t ldw = transposed ? rows + 5 : k + 3, count = transposed ? k * ldw : rows * ldw;
    size_t esize = type == MVLM_WEIGHT_F16 || type == MVLM_WEIGHT_BF16 ? 2 : 4;
    void *w = malloc((size_t)count * esize);
    for (int64_t i = 0; i < count; i++) {
        float v = rng_normal(&r, 0.5f);
        if (hostile == 1) v = i % 3 ? v * 1e-6f : v * 3e-5f;
        if (esize == 2) {
            uint16_t h = type == MVLM_WEIGHT_F16 ? harness_float_to_half(v) : to_bf16(v);
            ((uint16_t *)w)[i] = h;
        } else {
            ((float *)w)[i] = v;
        }
    }
    if (hostile == 2 && esize == 4) {
        ((float *)w)[1] = NAN;
        ((float *)w)[2 * (transposed ? 1 : ldw) + 3] = INFINITY;
    } else if (hostile == 2) {
        ((uint16_t *)w)[1] = type == MVLM_WEIGHT_F16 ? 0x7E00 : 0x7FC0;
        ((uint16_t *)w)[2 * ldw + 3] = type == MVLM_WEIGHT_F16 ? 0x7C00 : 0x7F80;
    }
    float *x = malloc((size_t)(tokens * k) * 4), *bias = malloc((size_t)rows * 4);
    for (int64_t i = 0; i < tokens * k; i++) x[i] = rng_normal(&r, hostile == 1 ? 1e4f : 1.0f);
    for (int64_t n = 0; n < rows; n++) bias[n] = rng_float(&r);
    int64_t ldy = rows + 2, tiles = (tokens + 7) / 8;
    size_t ybytes = (size_t)(tokens * ldy) * 4;
    float *y0 = malloc(ybytes), *y = malloc(ybytes);
    float *xp0 = malloc((size_t)mvlm_gemm_float_packed_count(tokens, k) * 4), *xp = malloc((size_t)mvlm_gemm_float_packed_count(tokens, k) * 4);
    const char *name = float_names[type];
    int top = harness_top_level();
    harness_use_level(0);
    mvlm_gemm_float_pack(x, tokens, k, 0, tiles, xp0);
    for (int64_t i = 0; i < tokens * ldy; i++) y0[i] = -7.0f;
    mvlm_gemm_float(type, w, ldw, 0, rows, xp0, tokens, k, bias, y0, ldy);
    long bad = 0;
    for (int64_t n = 0; n < rows && bad < 3; n++)
        for (int64_t t = 0; t < tokens; t++) {
            double s = bias[n], mag = fabs(bias[n]);
            for (int64_t j = 0; j < k; j++) {
                double p = weight_at(type, w, ldw, n, j) * x[t * k + j];
                s += p;
                mag += fabs(p);
            }
            // One f32 FMA chain over k: at most (k + 1) · 2^-24 · Σ|w x| (a relative 2^-24 per term).
            double bound = (double)(k + 1) * 0x1p-24 * mag, got = y0[t * ldy + n];
            int ok = isnan(s) ? isnan(got) : isinf(s) ? got == s : fabs(got - s) <= bound;
            if (!ok) bad++;
            CHECK(ok, "gemm_float %s h%d %lldx%lldx%lld level 0: y[%lld,%lld] = %.9g, Double %.9g (bound %.3g)", name, hostile,
                  (long long)tokens, (long long)rows, (long long)k, (long long)t, (long long)n, got, s, bound);
        }
    for (int level = 1; level <= top; level++) {
        harness_use_level(level);
        mvlm_gemm_float_pack(x, tokens, k, 0, tiles, xp);
        CHECK(!memcmp(xp, xp0, (size_t)mvlm_gemm_float_packed_count(tokens, k) * 4), "gemm_float_pack level %d differs", level);
        for (int64_t i = 0; i < tokens * ldy; i++) y[i] = -7.0f;
        int64_t mid = rows / 3;
        mvlm_gemm_float(type, w, ldw, 0, mid, xp, tokens, k, bias, y, ldy);
        mvlm_gemm_float(type, w, ldw, mid, rows, xp, tokens, k, bias, y, ldy);
        long diff = 0;
        int64_t first = -1;
        for (int64_t i = 0; i < tokens * ldy; i++)
            if (!same_float(y[i], y0[i])) {
                if (first < 0) first = i;
                diff++;
            }
        CHECK(diff == 0, "gemm_float %s h%d %lldx%lldx%lld level %d: %ld outputs differ from level 0 (first %.9g vs %.9g)", name, hostile,
              (long long)tokens, (long long)rows, (long long)k, level, diff, first >= 0 ? y[first] : 0.0, first >= 0 ? y0[first] : 0.0);
    }
    harness_use_level(-1);
    free(w), free(x), free(bias), free(y0), free(y), free(xp0), free(xp);
}

static void suite_gemm_float(void) {
    uint64_t seed = 100;
    for (int type = 0; type < 4; type++) {
        gemm_float_case(type, 0, 577, 40, 64, seed++);
        gemm_float_case(type, 0, 1, 17, 300, seed++);
        gemm_float_case(type, 0, 13, 33, 517, seed++);
        gemm_float_case(type, 0, 8, 16, 0 + 3, seed++);
        gemm_float_case(type, 1, 11, 24, 130, seed++);
        gemm_float_case(type, 2, 9, 20, 70, seed++);
    }
}

// ---- attention --------------------------------------------------------------------------------

// One case for mvlm_attention and mvlm_attention_rows: heads x tokens (past + tokens keys), against
// a Double reference. `spread` scales q so the scores span ±spread·√d (large: e^-100 underflows).
static void attention_case(int64_t tokens, int64_t past, int64_t heads, int64_t kv_heads, int64_t d, int causal, float spread,
                           uint64_t seed) {
    rng_t r = {seed};
    int64_t keys = past + tokens, qw = heads * d, kw = kv_heads * d;
    float *q = malloc((size_t)(tokens * qw) * 4), *k = malloc((size_t)(keys * kw) * 4), *v = malloc((size_t)(keys * kw) * 4);
    for (int64_t i = 0; i < tokens * qw; i++) q[i] = rng_normal(&r, spread);
    for (int64_t i = 0; i < keys * kw; i++) k[i] = rng_normal(&r, 1.0f), v[i] = rng_normal(&r, 1.0f);
    float scale = 1.0f / sqrtf((float)d);
    float *out = malloc((size_t)(tokens * qw) * 4);
    int64_t blocks = (tokens + 31) / 32;
    float *scratch = malloc((size_t)mvlm_attention_scratch_count(tokens, past, d) * 4);
    float *scratch_rows = malloc((size_t)mvlm_attention_rows_scratch_count(tokens, past) * 4);
    double *ref = malloc((size_t)(tokens * qw) * 8), *bound = malloc((size_t)(tokens * qw) * 8), *p = malloc((size_t)keys * 8);
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t h = 0; h < heads; h++) {
            const float *qt = q + t * qw + h * d;
            int64_t visible = causal ? past + t + 1 : keys, kv = h / (heads / kv_heads);
            double m = -INFINITY, total = 0, qk = 0;
            for (int64_t j = 0; j < visible; j++) {
                double s = 0, a = 0;
                for (int64_t c = 0; c < d; c++) s += (double)qt[c] * k[j * kw + kv * d + c], a += fabs((double)qt[c] * k[j * kw + kv * d + c]);
                p[j] = s * scale;
                m = p[j] > m ? p[j] : m;
                qk = a > qk ? a : qk;
            }
            for (int64_t j = 0; j < visible; j++) total += p[j] = exp(p[j] - m);
            for (int64_t c = 0; c < d; c++) {
                double s = 0, e = 0;
                for (int64_t j = 0; j < visible; j++) s += p[j] / total * v[j * kw + kv * d + c], e += p[j] / total * fabs(v[j * kw + kv * d + c]);
                ref[t * qw + h * d + c] = s;
                // f32 scores (d terms, then the scale), a few-ulp exp, the sums over keys and columns:
                // 8 · (d + keys) · 2^-24 relative, the scores' error amplified by the exponential.
                bound[t * qw + h * d + c] = e * 8 * (double)(d + visible) * 0x1p-24 * (1 + scale * qk) + 1e-30;
            }
        }
    int top = harness_top_level();
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        for (int rows = 0; rows < 2; rows++) {
            for (int64_t i = 0; i < tokens * qw; i++) out[i] = NAN;
            if (rows)
                mvlm_attention_rows(q, k, v, out, tokens, past, heads, kv_heads, d, scale, causal, 0, tokens * heads, scratch_rows);
            else
                mvlm_attention(q, k, v, out, tokens, past, heads, kv_heads, d, scale, causal, 0, heads * blocks, scratch);
            long bad = 0;
            int64_t first = -1;
            for (int64_t i = 0; i < tokens * qw; i++)
                if (!(fabs(out[i] - ref[i]) <= bound[i])) {
                    if (first < 0) first = i;
                    bad++;
                }
            CHECK(bad == 0, "attention%s %lld tokens past %lld d %lld causal %d spread %g level %d: %ld outputs off (first %.9g vs %.9g, bound %.3g)",
                  rows ? "_rows" : "", (long long)tokens, (long long)past, (long long)d, causal, spread, level, bad,
                  first >= 0 ? out[first] : 0.0, first >= 0 ? ref[first] : 0.0, first >= 0 ? bound[first] : 0.0);
        }
    }
    harness_use_level(-1);
    free(q), free(k), free(v), free(out), free(scratch), free(scratch_rows), free(ref), free(bound), free(p);
}

static void suite_attention(void) {
    attention_case(577, 0, 2, 1, 64, 0, 1.0f, 200);  // the vision tower's tokens, grouped-query
    attention_case(1, 37, 4, 2, 64, 1, 1.0f, 201);   // decode: one token after 37
    attention_case(13, 5, 3, 3, 20, 1, 1.0f, 202);   // odd sizes, head_dim not a multiple of 8
    attention_case(9, 0, 2, 2, 32, 1, 30.0f, 203);   // scores ±100s: exp underflows
    attention_case(40, 3, 1, 1, 36, 0, 0.0f, 204);   // q = 0: uniform probabilities
}

void suite_prefill(void) {
    long before = harness_failed;
    suite_gemm_q8();
    printf("prefill: gemm_q8 %s\n", harness_failed == before ? "ok" : "FAILED");
    before = harness_failed;
    suite_gemm_float();
    printf("prefill: gemm_float %s\n", harness_failed == before ? "ok" : "FAILED");
    before = harness_failed;
    suite_attention();
    printf("prefill: attention %s\n", harness_failed == before ? "ok" : "FAILED");
}
