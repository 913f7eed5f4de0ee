// Suite "decode" of the kernel test program (harness.h): the decode kernels at every level from 0
// (portable) to the detected one, on seeded random and hostile data.
//
// - mvlm_quantize_q8_0: the same bytes and block sums at every level, and the same as a reference
//   written here from the formula (d = max|x| / 127 to f16, q = roundf(x · (1 / d)), 0 when not
//   below 128 in magnitude or NaN).
// - mvlm_matvec_q8 (row-major) and mvlm_matvec_q8_rows16 (through a rows16 packer written here
//   from Formats/mvlm.md): every output against a Double reference dequantized here from the raw
//   blocks, within the bound derived below, and against level 0's output within twice that bound;
//   exactly equal where every scale is 1 (integer arithmetic only); rows outside [first, last)
//   untouched.
// - mvlm_q8_prepare, mvlm_matvec_float (f32 / f16 / bf16), mvlm_read_sum.
//
// The bound. A kernel computes integer dot products exactly, then for each block (Q4_K: each
// sub-block's scale part and min part, Q6_K: each 32 weights) one f32 term of at most 4 rounded
// products, and sums the T terms in some order (lanes, then lanes added up). With u = 2^-24 and
// M = Σ_i A_i |x_i| (A_i = |w_i|, or for Q4_K |d · sc · q| + |dmin · m|, which bounds both parts of
// the term before they cancel), the error is at most (T + 4) u M to first order; we allow
// (2 · blocks + 16) u M + 1e-30 (T <= 2 · blocks for Q4_K, blocks for the others).
#include "harness.h"

enum { Q4_0 = 0, Q8_0 = 1, Q4_K = 2, Q6_K = 3 };
static const char *type_names[4] = {"Q4_0", "Q8_0", "Q4_K", "Q6_K"};
static const int unit_bytes[4] = {18, 34, 144, 210};
static const int unit_weights[4] = {32, 32, 256, 256};

static int64_t row_size(int type, int64_t n) { return n / unit_weights[type] * unit_bytes[type]; }

static double h2d(const uint8_t *p) { return harness_half_to_float((uint16_t)(p[0] | p[1] << 8)); }

static void put_half(uint8_t *p, uint16_t h) {
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

// ---- reference: dequantized weights (and Q4_K's split magnitude) ---------------------------------

// w[i] for the n weights of one row; a[i] the magnitude that bounds its term (see the top).
static void dequantize_row(int type, const uint8_t *row, int64_t n, double *w, double *a) {
    for (int64_t u = 0; u < n / unit_weights[type]; u++) {
        const uint8_t *b = row + u * unit_bytes[type];
        double *wu = w + u * unit_weights[type], *au = a + u * unit_weights[type];
        switch (type) {
        case Q4_0:
            for (int j = 0; j < 16; j++) {
                wu[j] = h2d(b) * ((b[2 + j] & 15) - 8);
                wu[j + 16] = h2d(b) * ((b[2 + j] >> 4) - 8);
            }
            for (int j = 0; j < 32; j++) au[j] = fabs(wu[j]);
            break;
        case Q8_0:
            for (int j = 0; j < 32; j++) au[j] = fabs(wu[j] = h2d(b) * (int8_t)b[2 + j]);
            break;
        case Q4_K: {
            // 8 sub-blocks of 32: 6-bit scale and min (GGUF's packing), nibbles of qs[32 · (j / 2)...]
            // low for even j, high for odd.
            double d = h2d(b), dmin = h2d(b + 2);
            const uint8_t *sc = b + 4;
            for (int j = 0; j < 8; j++) {
                int s = j < 4 ? sc[j] & 63 : (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
                int m = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
                for (int i = 0; i < 32; i++) {
                    int q = (b[16 + 32 * (j / 2) + i] >> (4 * (j % 2))) & 15;
                    wu[32 * j + i] = d * s * q - dmin * m;
                    au[32 * j + i] = fabs(d * s * q) + fabs(dmin * m);
                }
            }
            break;
        }
        default: {
            // ql[128], qh[64], int8 scales[16], d: weight 128h + 32g + l (half h, quarter g, l < 32)
            // is (ql[64h + l + 32(g & 1)] nibble g / 2) | ((qh[32h + l] >> 2g) & 3) << 4, minus 32,
            // scaled by scales[8h + 2g + l / 16].
            double d = h2d(b + 208);
            for (int h = 0; h < 2; h++)
                for (int g = 0; g < 4; g++)
                    for (int l = 0; l < 32; l++) {
                        int lo = (b[64 * h + l + 32 * (g & 1)] >> (4 * (g / 2))) & 15;
                        int hi = (b[128 + 32 * h + l] >> (2 * g)) & 3;
                        double v = d * (int8_t)b[192 + 8 * h + 2 * g + l / 16] * ((lo | hi << 4) - 32);
                        wu[128 * h + 32 * g + l] = v;
                        au[128 * h + 32 * g + l] = fabs(v);
                    }
            break;
        }
        }
    }
}

// ---- the rows16 packer (Formats/mvlm.md, "Repacked layouts: rows16") --------------------------

typedef struct {
    int offset, size;
} field_t;

static int unit_fields(int type, field_t *f) {
    switch (type) {
    case Q4_0: f[0] = (field_t){0, 2}, f[1] = (field_t){2, 16}; return 2;
    case Q8_0: f[0] = (field_t){0, 2}, f[1] = (field_t){2, 32}; return 2;
    case Q4_K: f[0] = (field_t){0, 2}, f[1] = (field_t){2, 2}, f[2] = (field_t){4, 12}, f[3] = (field_t){16, 128}; return 4;
    default: f[0] = (field_t){0, 128}, f[1] = (field_t){128, 64}, f[2] = (field_t){192, 16}, f[3] = (field_t){208, 2}; return 4;
    }
}

// Group g, unit u starts at 16·g·R + u·16·B; a field at o of size s occupies [16o, 16(o + s)); an
// f16 field keeps row r's value at 16o + 2r, a byte field byte 4c + i of row r at 16o + (16c + r)·4 + i.
static void pack_rows16(int type, const uint8_t *src, int64_t rows, int64_t n, uint8_t *dst) {
    int64_t R = row_size(type, n), B = unit_bytes[type], units = n / unit_weights[type];
    field_t f[4];
    int fields = unit_fields(type, f);
    for (int64_t g = 0; g < rows / 16; g++)
        for (int64_t u = 0; u < units; u++) {
            uint8_t *rec = dst + 16 * g * R + u * 16 * B;
            for (int r = 0; r < 16; r++) {
                const uint8_t *unit = src + (16 * g + r) * R + u * B;
                for (int k = 0; k < fields; k++) {
                    int o = f[k].offset, s = f[k].size;
                    if (s == 2) {
                        memcpy(rec + 16 * o + 2 * r, unit + o, 2);
                    } else {
                        for (int c = 0; c < s / 4; c++)
                            for (int i = 0; i < 4; i++) rec[16 * o + (16 * c + r) * 4 + i] = unit[o + 4 * c + i];
                    }
                }
            }
        }
}

// ---- weights and activations -----------------------------------------------------------------------

enum { W_RANDOM, W_HIGH, W_LOW, W_SCALES, W_EXACT, W_KINDS };
static const char *weight_kinds[W_KINDS] = {"random", "saturated high", "saturated low", "hostile scales", "unit scales"};

// f16 scales a hostile block gets in turn: the largest, the smallest subnormal, the largest
// subnormal, zero, negative zero, the most negative, one.
static const uint16_t hostile_halves[] = {0x7BFF, 0x0001, 0x03FF, 0x0000, 0x8000, 0xFBFF, 0x3C00};

static uint16_t random_scale(rng_t *r) { return harness_float_to_half(rng_normal(r, 0.02f)); }

static void make_weights(int type, int kind, int64_t rows, int64_t n, rng_t *rng, uint8_t *w) {
    int64_t R = row_size(type, n), units = n / unit_weights[type];
    rng_bytes(rng, w, (size_t)(rows * R));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t u = 0; u < units; u++) {
            uint8_t *b = w + r * R + u * unit_bytes[type];
            uint16_t h0 = random_scale(rng), h1 = random_scale(rng);
            if (kind == W_SCALES) {
                h0 = hostile_halves[(r + u) % 7];
                h1 = hostile_halves[(r + 3 * u + 1) % 7];
            } else if (kind == W_EXACT) {
                h0 = h1 = 0x3C00;
            }
            uint8_t fill = kind == W_HIGH ? 0xFF : 0x00;
            switch (type) {
            case Q4_0:
                put_half(b, h0);
                if (kind == W_HIGH || kind == W_LOW) memset(b + 2, fill, 16);
                break;
            case Q8_0:
                put_half(b, h0);
                if (kind == W_HIGH || kind == W_LOW) memset(b + 2, kind == W_HIGH ? 0x7F : 0x80, 32);
                break;
            case Q4_K:
                put_half(b, h0), put_half(b + 2, h1);
                if (kind == W_HIGH || kind == W_LOW) memset(b + 4, fill, 140);  // scales and mins 63 or 0
                break;
            default:
                put_half(b + 208, h0);
                if (kind == W_HIGH || kind == W_LOW) {
                    memset(b, fill, 192);                                  // q = 63 or 0 (w = 31 or -32)
                    memset(b + 192, kind == W_HIGH ? 0x7F : 0x80, 16);     // scales 127 or -128
                }
                break;
            }
        }
}

enum { X_RANDOM, X_PLUS, X_MINUS, X_ALTERNATE, X_SMALL, X_KINDS };
static const char *activation_kinds[X_KINDS] = {"quantized random", "all +127", "all -127", "alternating ±127",
                                                "unit scale, |q| <= 15"};

// Activation blocks (34 bytes each) and their block sums.
static void make_activations(int kind, int64_t n, rng_t *rng, uint8_t *xq, int32_t *xsum) {
    if (kind == X_RANDOM) {
        float *x = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) x[i] = rng_normal(rng, (i / 32) % 5 == 3 ? 40.0f : 1.0f);
        harness_use_level(0);
        mvlm_quantize_q8_0(x, xq, xsum, n);
        harness_use_level(-1);
        free(x);
        return;
    }
    for (int64_t b = 0; b < n / 32; b++) {
        uint8_t *blk = xq + b * 34;
        put_half(blk, kind == X_SMALL ? 0x3C00 : harness_float_to_half(0.01f + 0.001f * (float)(b % 7)));
        int32_t s = 0;
        for (int i = 0; i < 32; i++) {
            int q = kind == X_PLUS ? 127 : kind == X_MINUS ? -127 : kind == X_ALTERNATE ? ((i + b) % 2 ? 127 : -127)
                                                                                         : (int)(rng_next(rng) % 31) - 15;
            blk[2 + i] = (uint8_t)(int8_t)q;
            s += q;
        }
        xsum[b] = s;
    }
}

// ---- the matrix x vector checks ----------------------------------------------------------------

static const float sentinel = 12345.5f;

typedef struct {
    int type, wkind, xkind;
    int64_t rows, n;
} decode_case;

// Checks y[first, last) against the reference and level 0's outputs y0 (NULL: none yet), and
// y[r] == sentinel outside. `exact`: every scale is 1, so the result must equal the reference.
static void check_outputs(const decode_case *c, const char *path, int level, const float *y, const float *y0,
                          const double *ref, const double *bound, int64_t first, int64_t last, int exact) {
    int64_t bad = -1, untouched_bad = -1;
    for (int64_t r = 0; r < c->rows; r++) {
        if (r < first || r >= last) {
            if (y[r] != sentinel && untouched_bad < 0) untouched_bad = r;
            continue;
        }
        double e = fabs((double)y[r] - ref[r]);
        int ok = exact ? (double)y[r] == ref[r] : e <= bound[r];
        if (y0 && !exact) ok = ok && fabs((double)y[r] - (double)y0[r]) <= 2 * bound[r];
        if (!ok && bad < 0) bad = r;
    }
    const char *fmt = "%s %s %s weights, %s activations, %lld rows x %lld, rows [%lld, %lld), level %d: row %lld "
                      "gives %.9g, reference %.9g (bound %.3g, level 0 %.9g)";
    int64_t br = bad < 0 ? 0 : bad;
    CHECK(bad < 0, fmt, path, type_names[c->type], weight_kinds[c->wkind], activation_kinds[c->xkind], (long long)c->rows,
          (long long)c->n, (long long)first, (long long)last, level, (long long)bad, y[br], ref[br], bound[br],
          y0 ? y0[br] : 0.0);
    CHECK(untouched_bad < 0, "%s %s: level %d wrote row %lld outside [%lld, %lld)", path, type_names[c->type], level,
          (long long)untouched_bad, (long long)first, (long long)last);
}

static void run_decode_case(const decode_case *c, rng_t *rng) {
    int64_t R = row_size(c->type, c->n), blocks = c->n / 32, rows = c->rows;
    uint8_t *w = malloc((size_t)(rows * R)), *packed = malloc((size_t)(rows * R));
    uint8_t *xq = malloc((size_t)(blocks * 34));
    int32_t *xsum = malloc((size_t)blocks * sizeof(int32_t)), *xsum16 = malloc((size_t)blocks * 2 * sizeof(int32_t));
    float *xd = malloc((size_t)blocks * sizeof(float));
    double *wd = malloc((size_t)c->n * sizeof(double)), *ad = malloc((size_t)c->n * sizeof(double));
    double *ref = malloc((size_t)rows * sizeof(double)), *bound = malloc((size_t)rows * sizeof(double));
    float *y = malloc((size_t)rows * sizeof(float)), *y0 = malloc((size_t)rows * sizeof(float));
    make_weights(c->type, c->wkind, rows, c->n, rng, w);
    make_activations(c->xkind, c->n, rng, xq, xsum);

    int exact = c->wkind == W_EXACT && c->xkind == X_SMALL;
    for (int64_t r = 0; r < rows; r++) {
        dequantize_row(c->type, w + r * R, c->n, wd, ad);
        double s = 0, m = 0;
        for (int64_t i = 0; i < c->n; i++) {
            const uint8_t *blk = xq + (i / 32) * 34;
            double x = h2d(blk) * (int8_t)blk[2 + i % 32];
            s += wd[i] * x;
            m += ad[i] * fabs(x);
        }
        ref[r] = s;
        bound[r] = (2.0 * (double)blocks + 16.0) * 0x1p-24 * m + 1e-30;
        if (exact && m >= 0x1p24) exact = 0;  // not every partial sum an exact f32 integer
    }

    int top = harness_top_level();
    // Row ranges: all rows, then one that starts and ends inside (first / last sub-ranges).
    int64_t ranges[2][2] = {{0, rows}, {rows > 2 ? 1 : 0, rows > 2 ? rows - 1 : rows}};
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        for (int k = 0; k < 2; k++) {
            for (int64_t r = 0; r < rows; r++) y[r] = sentinel;
            mvlm_matvec_q8(c->type, w, (size_t)R, ranges[k][0], ranges[k][1], xq, xsum, c->n, y);
            check_outputs(c, "row-major", level, y, level == 0 && k == 0 ? NULL : y0, ref, bound, ranges[k][0],
                          ranges[k][1], exact);
            if (level == 0 && k == 0) memcpy(y0, y, (size_t)rows * sizeof(float));
        }
    }
    if (rows % 16 == 0) {
        pack_rows16(c->type, w, rows, c->n, packed);
        int64_t groups = rows / 16;
        int64_t granges[2][2] = {{0, groups}, {groups > 2 ? 1 : 0, groups > 2 ? groups - 1 : groups}};
        for (int level = 0; level <= top; level++) {
            harness_use_level(level);
            mvlm_q8_prepare(xq, c->n, xd, xsum16);
            int64_t bad = -1;
            for (int64_t b = 0; b < blocks; b++) {
                int32_t lo = 0, hi = 0;
                for (int i = 0; i < 16; i++) lo += (int8_t)xq[b * 34 + 2 + i], hi += (int8_t)xq[b * 34 + 18 + i];
                if (xd[b] != (float)h2d(xq + b * 34) || xsum16[2 * b] != lo || xsum16[2 * b + 1] != hi || lo + hi != xsum[b])
                    if (bad < 0) bad = b;
            }
            CHECK(bad < 0, "mvlm_q8_prepare, level %d, n %lld: block %lld wrong", level, (long long)c->n, (long long)bad);
            for (int k = 0; k < 2; k++) {
                for (int64_t r = 0; r < rows; r++) y[r] = sentinel;
                mvlm_matvec_q8_rows16(c->type, packed, granges[k][0], granges[k][1], xq, xd, xsum16, c->n, y);
                check_outputs(c, "rows16", level, y, y0, ref, bound, 16 * granges[k][0], 16 * granges[k][1], exact);
            }
        }
    }
    harness_use_level(-1);
    free(w), free(packed), free(xq), free(xsum), free(xsum16), free(xd), free(wd), free(ad), free(ref), free(bound),
        free(y), free(y0);
}

static void test_matvec_q8(rng_t *rng) {
    static const int64_t small_n[] = {32, 64, 96, 256, 800, 2816};   // Q4_0 / Q8_0: any whole blocks
    static const int64_t k_n[] = {256, 512, 2816};                   // Q4_K / Q6_K: whole super-blocks
    static const int64_t row_counts[] = {1, 17, 33, 16, 48};
    for (int type = 0; type < 4; type++) {
        const int64_t *ns = type < 2 ? small_n : k_n;
        int count = type < 2 ? 6 : 3;
        for (int i = 0; i < count; i++)
            for (int ri = 0; ri < 5; ri++) {
                // Random weights and activations at every size; the hostile kinds at one row count
                // that also has a rows16 form, and at an odd one.
                for (int wk = 0; wk < W_KINDS; wk++)
                    for (int xk = 0; xk < X_KINDS; xk++) {
                        int base = wk == W_RANDOM && xk == X_RANDOM;
                        int hostile = (ri == 1 || ri == 4) && (xk == X_RANDOM || wk == W_RANDOM || xk == X_SMALL);
                        if (!base && !hostile) continue;
                        if (ns[i] > 512 && !base && ri != 4) continue;  // keep emulated runs short
                        decode_case c = {type, wk, xk, row_counts[ri], ns[i]};
                        run_decode_case(&c, rng);
                    }
            }
    }
}

// ---- the activation quantizer ----------------------------------------------------------------------

// The formula, written here: d = max|x| / 127 (NaN |x| ignored), id = 1 / d or 0, q = roundf(x · id)
// when |x · id| < 128, else 0 (NaN too); d stored as f16 (round to nearest even).
static void reference_q8(const float *x, int64_t n, uint8_t *out, int32_t *sums) {
    for (int64_t b = 0; b < n / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0;
        for (int i = 0; i < 32; i++)
            if (fabsf(v[i]) > amax) amax = fabsf(v[i]);
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        put_half(out + 34 * b, harness_float_to_half(d));
        int32_t s = 0;
        for (int i = 0; i < 32; i++) {
            float t = v[i] * id;
            int q = fabsf(t) < 128.0f ? (int)roundf(t) : 0;
            out[34 * b + 2 + i] = (uint8_t)(int8_t)q;
            s += q;
        }
        sums[b] = s;
    }
}

static void test_quantizer(rng_t *rng) {
    enum { BLOCKS = 40 };
    float x[32 * BLOCKS];
    for (int b = 0; b < BLOCKS; b++) {
        float *v = x + 32 * b;
        float scale = b < 8 ? powf(10.0f, (float)(b - 4)) : 1.0f;
        for (int i = 0; i < 32; i++) v[i] = rng_normal(rng, scale);
        switch (b) {
        case 8: for (int i = 0; i < 32; i++) v[i] = 0; break;                                  // zeros
        case 9: for (int i = 0; i < 32; i++) v[i] = (float)(i - 16) + 0.5f; v[0] = 127; break; // ties: x · 1
        case 10: for (int i = 0; i < 32; i++) v[i] = -(float)i - 0.5f; v[5] = -127; break;
        case 11: v[7] = NAN; break;
        case 12: v[3] = INFINITY; break;
        case 13: v[30] = -INFINITY; v[2] = NAN; break;
        case 14: for (int i = 0; i < 32; i++) v[i] = 1e-40f * (float)(i - 16); break;          // subnormal: 1 / d = inf
        case 15: for (int i = 0; i < 32; i++) v[i] = 3e38f * (i % 3 ? 1.0f : -1.0f); break;  // huge
        case 16: for (int i = 0; i < 32; i++) v[i] = (i % 2) ? -0.0f : 0.0f; break;
        case 17: for (int i = 0; i < 32; i++) v[i] = (float)(i % 7) * 1e-30f; break;            // d near f16 underflow
        case 18: for (int i = 0; i < 32; i++) v[i] = 60000.0f * rng_float(rng); v[9] = 70000.0f; break; // d f16 overflow
        case 19: for (int i = 0; i < 32; i++) v[i] = 127.0f * (i % 2 ? 1.0f : -1.0f); break;
        default: break;
        }
    }
    uint8_t expected[34 * BLOCKS], got[34 * BLOCKS];
    int32_t esums[BLOCKS], sums[BLOCKS];
    reference_q8(x, 32 * BLOCKS, expected, esums);
    int top = harness_top_level();
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        // Whole vector, and sizes of 1 and 3 blocks from an odd block offset.
        memset(got, 0xA5, sizeof got);
        mvlm_quantize_q8_0(x, got, sums, 32 * BLOCKS);
        int bad = -1;
        for (int b = 0; b < BLOCKS && bad < 0; b++)
            if (memcmp(got + 34 * b, expected + 34 * b, 34) || sums[b] != esums[b]) bad = b;
        CHECK(bad < 0, "mvlm_quantize_q8_0 level %d: block %d differs from the formula (sum %d, expected %d)", level, bad,
              bad < 0 ? 0 : sums[bad], bad < 0 ? 0 : esums[bad]);
        memset(got, 0xA5, sizeof got);
        mvlm_quantize_q8_0(x + 32 * 9, got, NULL, 32 * 3);
        CHECK(!memcmp(got, expected + 34 * 9, 34 * 3) && got[34 * 3] == 0xA5,
              "mvlm_quantize_q8_0 level %d without sums, blocks 9-11: bytes differ or written past the end", level);
    }
    harness_use_level(-1);
}

// ---- float weights -------------------------------------------------------------------------------

static void test_matvec_float(rng_t *rng) {
    static const int64_t ks[] = {1, 3, 8, 15, 16, 17, 64, 100, 1000, 2816};
    static const char *names[3] = {"f32", "f16", "bf16"};
    enum { ROWS = 5 };
    int top = harness_top_level();
    for (int type = 0; type < 3; type++)
        for (int ki = 0; ki < 10; ki++)
            for (int hostile = 0; hostile < 2; hostile++) {
                int64_t k = ks[ki], ldw = k + 3;
                size_t es = type == MVLM_WEIGHT_F32 ? 4 : 2;
                uint8_t *w = malloc((size_t)(ROWS * ldw) * es);
                float *x = malloc((size_t)k * sizeof(float)), y[ROWS], y0[ROWS];
                double ref[ROWS], bound[ROWS];
                for (int64_t i = 0; i < ROWS * ldw; i++) {
                    float v = rng_normal(rng, 1.0f);
                    if (hostile) {  // the f16 extremes (largest, subnormals) and large bf16 / f32 values
                        static const float extremes[] = {65504.0f, -65504.0f, 5.96e-8f, -6.1e-5f, 1e-6f, 0.0f};
                        v = i % 3 ? extremes[i % 6] : v * 1000.0f;
                    }
                    if (type == MVLM_WEIGHT_F32) {
                        memcpy(w + 4 * i, &v, 4);
                    } else if (type == MVLM_WEIGHT_F16) {
                        put_half(w + 2 * i, harness_float_to_half(v));
                    } else {
                        uint32_t bits;
                        memcpy(&bits, &v, 4);
                        put_half(w + 2 * i, (uint16_t)(bits >> 16));  // truncation: any bf16 will do
                    }
                }
                for (int64_t j = 0; j < k; j++) x[j] = rng_normal(rng, hostile ? 100.0f : 1.0f);
                for (int r = 0; r < ROWS; r++) {
                    double s = 0, m = 0;
                    for (int64_t j = 0; j < k; j++) {
                        const uint8_t *p = w + (size_t)(r * ldw + j) * es;
                        double wv;
                        if (type == MVLM_WEIGHT_F32) {
                            float f;
                            memcpy(&f, p, 4);
                            wv = f;
                        } else if (type == MVLM_WEIGHT_F16) {
                            wv = h2d(p);
                        } else {
                            uint32_t bits = (uint32_t)(p[0] | p[1] << 8) << 16;
                            float f;
                            memcpy(&f, &bits, 4);
                            wv = f;
                        }
                        s += wv * x[j];
                        m += fabs(wv * x[j]);
                    }
                    // k products and k - 1 additions in some order: (k + 2) u Σ|w x|.
                    ref[r] = s, bound[r] = ((double)k + 2.0) * 0x1p-24 * m + 1e-30;
                }
                for (int level = 0; level <= top; level++) {
                    harness_use_level(level);
                    for (int r = 0; r < ROWS; r++) y[r] = sentinel;
                    mvlm_matvec_float(type, w, ldw, 1, ROWS, x, k, y);
                    int bad = -1;
                    for (int r = 1; r < ROWS; r++) {
                        int ok = fabs((double)y[r] - ref[r]) <= bound[r];
                        if (level > 0) ok = ok && fabs((double)y[r] - (double)y0[r]) <= 2 * bound[r];
                        if (!ok && bad < 0) bad = r;
                    }
                    CHECK(bad < 0 && y[0] == sentinel, "mvlm_matvec_float %s%s k %lld level %d: row %d gives %.9g, reference %.9g",
                          names[type], hostile ? " (extremes)" : "", (long long)k, level, bad, bad < 0 ? 0 : y[bad],
                          bad < 0 ? 0 : ref[bad]);
                    if (level == 0) memcpy(y0, y, sizeof y);
                }
                harness_use_level(-1);
                free(w), free(x);
            }
}

// ---- read bandwidth sum ------------------------------------------------------------------------------

static void test_read_sum(rng_t *rng) {
    enum { SIZE = 1100 };
    uint8_t buf[SIZE];
    rng_bytes(rng, buf, SIZE);
    static const int64_t counts[] = {0, 1, 7, 8, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000};
    int top = harness_top_level();
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        for (int off = 0; off < 8; off++)
            for (int ci = 0; ci < 14; ci++) {
                int64_t count = counts[ci];
                uint64_t expected = 0;
                int64_t i = 0;
                for (; i + 8 <= count; i += 8) {
                    uint64_t word = 0;
                    for (int b = 0; b < 8; b++) word |= (uint64_t)buf[off + i + b] << (8 * b);
                    expected += word;
                }
                for (; i < count; i++) expected += buf[off + i];
                uint64_t got = mvlm_read_sum(buf + off, count);
                CHECK(got == expected, "mvlm_read_sum level %d, offset %d, %lld bytes: %llu, expected %llu", level, off,
                      (long long)count, (unsigned long long)got, (unsigned long long)expected);
            }
    }
    harness_use_level(-1);
}

void suite_decode(void) {
    rng_t rng = {0x5EED0DEC0DEull};
    test_quantizer(&rng);
    test_read_sum(&rng);
    test_matvec_float(&rng);
    test_matvec_q8(&rng);
}
