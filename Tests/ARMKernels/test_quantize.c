// Suite "quantize" of the kernel test program (harness.h): the conversion quantizers
// (mvlm_quantize_q4_0 / _q4_k / _q6_k), mvlm_all_finite and mvlm_widen_f16 at every level.
//
// The quantizers' reference is independent of this project: Tests/Fixtures/quant holds 60 rows of
// 256 floats (rows.f32: normal, uniform, outliers, all-equal, all-zero, f16-range, 1e-30 / 1e-36
// tiny, sparse, heavy-tailed and random rows; see gen_quant.py) with their Q4_0 bytes from
// gguf-python and Q4_K / Q6_K bytes from llama.cpp's quantize_row_q4_K_ref / q6_K_ref. Every vector
// level must write those bytes exactly; level 0 must return 0 and write nothing (the caller's
// portable path takes over). On random and hostile rows the one-super-block and two-super-block
// Q4_K paths must agree.
#include "harness.h"

static void *read_fixture(const char *name, size_t expected) {
    char path[256];
    snprintf(path, sizeof path, "Tests/Fixtures/quant/%s", name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s (run from the repository root)", path);
    if (!f) return NULL;
    void *data = malloc(expected + 1);
    size_t got = fread(data, 1, expected + 1, f);
    fclose(f);
    CHECK(got == expected, "%s: %zu bytes, expected %zu", path, got, expected);
    if (got != expected) {
        free(data);
        return NULL;
    }
    return data;
}

enum { ROWS = 60, COLS = 256 };

static void fixture_quantizers(void) {
    float *rows = read_fixture("rows.f32", ROWS * COLS * 4);
    uint8_t *q4_0 = read_fixture("q4_0.bin", ROWS * 8 * 18), *q4_k = read_fixture("q4_k.bin", ROWS * 144),
            *q6_k = read_fixture("q6_k.bin", ROWS * 210);
    if (!rows || !q4_0 || !q4_k || !q6_k) return;
    uint8_t *out = malloc(ROWS * 210 + 64);
    int top = harness_top_level();
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        if (level == 0) {
            memset(out, 0xA5, ROWS * 210);
            int a = mvlm_quantize_q4_0(rows, ROWS * 8, out), b = mvlm_quantize_q4_k(rows, ROWS, out), c = mvlm_quantize_q6_k(rows, ROWS, out);
            int untouched = 1;
            for (int i = 0; i < ROWS * 210; i++) untouched &= out[i] == 0xA5;
            CHECK(a == 0 && b == 0 && c == 0 && untouched, "level 0: the quantizers must return 0 and write nothing (%d %d %d)", a, b, c);
            continue;
        }
        // Q4_0: all blocks in one call.
        CHECK(mvlm_quantize_q4_0(rows, ROWS * 8, out) == 1, "level %d: mvlm_quantize_q4_0 declined", level);
        for (int r = 0; r < ROWS; r++)
            CHECK(!memcmp(out + r * 144, q4_0 + r * 144, 144), "level %d Q4_0 row %d differs from gguf-python's bytes", level, r);
        // Q4_K: all super-blocks at once (pairs), then one at a time (the single path).
        for (int single = 0; single < 2; single++) {
            if (single) {
                for (int r = 0; r < ROWS; r++) mvlm_quantize_q4_k(rows + r * COLS, 1, out + r * 144);
            } else {
                CHECK(mvlm_quantize_q4_k(rows, ROWS, out) == 1, "level %d: mvlm_quantize_q4_k declined", level);
            }
            for (int r = 0; r < ROWS; r++)
                CHECK(!memcmp(out + r * 144, q4_k + r * 144, 144), "level %d Q4_K%s row %d differs from llama.cpp's bytes", level,
                      single ? " (one at a time)" : "", r);
        }
        CHECK(mvlm_quantize_q6_k(rows, ROWS, out) == 1, "level %d: mvlm_quantize_q6_k declined", level);
        for (int r = 0; r < ROWS; r++)
            CHECK(!memcmp(out + r * 210, q6_k + r * 210, 210), "level %d Q6_K row %d differs from llama.cpp's bytes", level, r);
    }
    harness_use_level(-1);
    free(rows), free(q4_0), free(q4_k), free(q6_k), free(out);
}

// Random and hostile super-blocks: Q4_K in pairs equals Q4_K one at a time (the 16- and 8-lane
// instantiations), Q6_K and Q4_0 of a block do not depend on its neighbours.
static void consistency(void) {
    enum { N = 9 };
    rng_t r = {400};
    float *x = malloc(N * 256 * 4);
    for (int b = 0; b < N; b++)
        for (int i = 0; i < 256; i++) {
            float v = rng_normal(&r, 1.0f);
            switch (b % 5) {
            case 1: v *= 1e-36f; break;                          // scales near the f16 subnormals
            case 2: v = i % 32 == 0 ? 60000.0f : v; break;     // huge outliers
            case 3: v = (float)(i % 7) - 3.0f; break;            // few distinct values
            case 4: v = i < 128 ? 0.0f : fabsf(v) + 1.0f; break; // a zero half, an all-positive half
            default: break;
            }
            x[b * 256 + i] = v;
        }
    uint8_t a[N * 210], b1[N * 210];
    int top = harness_top_level();
    for (int level = 1; level <= top; level++) {
        harness_use_level(level);
        mvlm_quantize_q4_k(x, N, a);
        for (int b = 0; b < N; b++) mvlm_quantize_q4_k(x + b * 256, 1, b1 + b * 144);
        CHECK(!memcmp(a, b1, N * 144), "level %d: Q4_K in pairs differs from one super-block at a time", level);
        mvlm_quantize_q6_k(x, N, a);
        for (int b = 0; b < N; b++) mvlm_quantize_q6_k(x + b * 256, 1, b1 + b * 210);
        CHECK(!memcmp(a, b1, N * 210), "level %d: Q6_K of a super-block depends on its neighbours", level);
    }
    harness_use_level(-1);
    free(x);
}

static void finite_and_widen(void) {
    rng_t r = {401};
    enum { N = 1003 };
    float x[N];
    uint16_t all[65536];
    float wide[65536];
    for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    int top = harness_top_level();
    for (int level = 0; level <= top; level++) {
        harness_use_level(level);
        // A non-finite value at each kind of position (vector body, tail), or none.
        static const int where[] = {-1, 0, 3, 4, 500, 999, 1000, 1002};
        for (int w = 0; w < 8; w++)
            for (int kind = 0; kind < 3; kind++) {
                for (int i = 0; i < N; i++) x[i] = rng_normal(&r, 1e30f);
                if (where[w] >= 0) x[where[w]] = kind == 0 ? NAN : kind == 1 ? INFINITY : -INFINITY;
                int want = where[w] < 0;
                CHECK(mvlm_all_finite(x, N) == want, "level %d all_finite with a non-finite at %d (kind %d)", level, where[w], kind);
                CHECK(mvlm_all_finite(x, where[w] < 0 ? N : where[w]) == 1, "level %d all_finite of the finite prefix", level);
            }
        // Every f16 value, widened exactly (NaNs stay NaN with their sign).
        int done = mvlm_widen_f16(all, wide, 65536);
        CHECK(done == (level > 0), "level %d: widen_f16 returned %d", level, done);
        if (!done) continue;
        long bad = 0;
        for (int i = 0; i < 65536; i++) {
            float want = harness_half_to_float((uint16_t)i);
            if (isnan(want) ? !(isnan(wide[i]) && signbit(wide[i]) == signbit(want)) : memcmp(&want, &wide[i], 4) != 0) bad++;
        }
        CHECK(bad == 0, "level %d: widen_f16 differs on %ld of the 65536 f16 values", level, bad);
        // Odd lengths: the tail.
        float tail[7];
        mvlm_widen_f16(all + 0x3C00, tail, 7);
        for (int i = 0; i < 7; i++) CHECK(tail[i] == harness_half_to_float((uint16_t)(0x3C00 + i)), "level %d widen tail %d", level, i);
    }
    harness_use_level(-1);
}

void suite_quantize(void) {
    long before = harness_failed;
    fixture_quantizers();
    consistency();
    finite_and_widen();
    printf("quantize: q4_0, q4_k, q6_k, all_finite, widen_f16 %s\n", harness_failed == before ? "ok" : "FAILED");
}
