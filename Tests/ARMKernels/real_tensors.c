// Real tensors of a converted model (`--real DIR [--out OUT]`, harness.h): the kernels' outputs for
// every linear layer of a small real model, so that what `mvlm verify` measures on a workstation is
// shown to be what an ARM CPU computes.
//
// DIR holds the stored bytes of each tensor exactly as the .mvlm file stores them (rows16 matrices
// in their stored order; extracted by real_tensors.sh) and a list, DIR/tensors.txt, one per line:
//   FILE TYPE LAYOUT ROWS COLUMNS
// TYPE 0 Q4_0, 1 Q8_0, 2 Q4_K, 3 Q6_K (the kernels' numbering); LAYOUT rows16 or row_major.
// For each tensor, with seeded activations (the same on every machine): decode (mvlm_quantize_q8_0
// + the matrix-vector kernel) and prefill of 5 tokens (mvlm_gemm_q8_pack + mvlm_gemm_q8[_rows16]),
// at the portable level and this CPU's top level, which must agree within the bound below.
// With --out, the top level's outputs are written to OUT/FILE.f32 (decode row, then the 5 prefill
// rows), which `--compare A B` checks across machines: the same bound, and the same arg-max of
// every decode output (the greedy token, for the output head).
//
// Bound: the integer products are exact at every level and on every machine; only the f32 scaling
// and summation order differ, so |a - b| <= 1e-5 · max|b| over the tensor's outputs + 1e-6 (the
// sums are of at most a few thousand terms, each rounded once: about n · 2^-24 relative).
#include <errno.h>

#include "harness.h"

enum { PREFILL_TOKENS = 5 };

typedef struct {
    char file[256];
    int type, rows16;
    int64_t rows, cols;
} entry_t;

static void *read_raw(const char *path, int64_t expected, char *why, size_t why_size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = size == expected ? malloc((size_t)expected) : NULL;
    if (!data || fread(data, 1, (size_t)expected, f) != (size_t)expected) {
        snprintf(why, why_size, "%s: %ld bytes, expected %lld", path, size, (long long)expected);
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    return data;
}

static int64_t row_bytes_of(int type, int64_t cols) {
    switch (type) {
    case 0: return cols / 32 * 18;
    case 1: return cols / 32 * 34;
    case 2: return cols / 256 * 144;
    default: return cols / 256 * 210;
    }
}

/// Decode and prefill outputs of one tensor at the current level: y[(1 + PREFILL_TOKENS) * rows].
static void run_tensor(const entry_t *e, const uint8_t *w, const float *x, float *y) {
    int64_t n = e->cols, rows = e->rows, rb = row_bytes_of(e->type, n);
    uint8_t *xq = malloc((size_t)(n / 32 * 34));
    int32_t *xsum = malloc((size_t)(n / 32) * sizeof(int32_t));
    mvlm_quantize_q8_0(x, xq, xsum, n);
    if (e->rows16) {
        float *xd = malloc((size_t)(n / 32) * sizeof(float));
        int32_t *xsum16 = malloc((size_t)(n / 16) * sizeof(int32_t));
        mvlm_q8_prepare(xq, n, xd, xsum16);
        mvlm_matvec_q8_rows16(e->type, w, 0, rows / 16, xq, xd, xsum16, n, y);
        free(xd);
        free(xsum16);
    } else {
        mvlm_matvec_q8(e->type, w, (size_t)rb, 0, rows, xq, xsum, n, y);
    }
    int64_t tiles = (PREFILL_TOKENS + 7) / 8;
    void *xp = malloc((size_t)mvlm_gemm_q8_packed_bytes(PREFILL_TOKENS, n));
    mvlm_gemm_q8_pack(x, PREFILL_TOKENS, n, 0, tiles, xp);
    if (e->rows16)
        mvlm_gemm_q8_rows16(e->type, w, (size_t)rb, 0, rows, xp, PREFILL_TOKENS, n, NULL, y + rows, rows);
    else
        mvlm_gemm_q8(e->type, w, (size_t)rb, 0, rows, xp, PREFILL_TOKENS, n, NULL, y + rows, rows);
    free(xp);
    free(xq);
    free(xsum);
}

static double max_abs(const float *v, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)v[i]));
    return m;
}

/// Checks a against b (reference) within the bound; returns the worst |a - b| / max|b|.
static double agree(const float *a, const float *b, int64_t n, int64_t *bad) {
    double scale = max_abs(b, n), worst = 0;
    *bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= 1e-5 * scale + 1e-6)) (*bad)++;
        worst = fmax(worst, scale > 0 ? d / scale : d);
    }
    return worst;
}

static int64_t argmax(const float *v, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static int read_list(const char *dir, entry_t **entries, int *count) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tensors.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    int capacity = 64;
    *entries = malloc(sizeof(entry_t) * (size_t)capacity);
    *count = 0;
    char layout[32];
    entry_t e;
    while (fscanf(f, "%255s %d %31s %lld %lld", e.file, &e.type, layout, (long long *)&e.rows, (long long *)&e.cols) == 5) {
        e.rows16 = strcmp(layout, "rows16") == 0;
        int unit = e.type >= 2 ? 256 : 32;
        if (e.type < 0 || e.type > 3 || e.rows <= 0 || e.cols <= 0 || e.cols % unit || (e.rows16 && e.rows % 16)) {
            fprintf(stderr, "%s: bad line for %s\n", path, e.file);
            fclose(f);
            return 1;
        }
        if (*count == capacity) *entries = realloc(*entries, sizeof(entry_t) * (size_t)(capacity *= 2));
        (*entries)[(*count)++] = e;
    }
    fclose(f);
    return *count == 0;
}

int run_real_tensors(const char *dir, const char *out_dir) {
    entry_t *entries;
    int count;
    if (read_list(dir, &entries, &count)) return 1;
    int top = harness_top_level();
    double worst = 0;
    for (int i = 0; i < count; i++) {
        const entry_t *e = &entries[i];
        char path[1024], why[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->file);
        uint8_t *w = read_raw(path, e->rows * row_bytes_of(e->type, e->cols), why, sizeof why);
        if (!w) {
            CHECK(0, "%s", why);
            continue;
        }
        rng_t rng = {0x5EED0000u + (uint64_t)e->cols};  // same activations on every machine
        float *x = malloc(sizeof(float) * (size_t)(e->cols * PREFILL_TOKENS));
        for (int64_t j = 0; j < e->cols * PREFILL_TOKENS; j++) x[j] = rng_normal(&rng, 1.0f) * (j % 97 == 0 ? 8.0f : 1.0f);
        int64_t outputs = e->rows * (1 + PREFILL_TOKENS);
        float *reference = malloc(sizeof(float) * (size_t)outputs), *y = malloc(sizeof(float) * (size_t)outputs);
        harness_use_level(0);
        run_tensor(e, w, x, reference);
        // Level 0 and the top level (the levels between are covered by the fixture suites).
        for (int level = top; level >= 1 && level == top; level--) {
            harness_use_level(level);
            run_tensor(e, w, x, y);
            int64_t bad;
            double rel = agree(y, reference, outputs, &bad);
            worst = fmax(worst, rel);
            CHECK(bad == 0, "%s: level %d differs from level 0 in %lld of %lld outputs (worst %.3g of max|y|)", e->file, level,
                  (long long)bad, (long long)outputs, rel);
        }
        harness_use_level(-1);
        if (out_dir) {
            run_tensor(e, w, x, y);
            snprintf(path, sizeof path, "%s/%s.f32", out_dir, e->file);
            FILE *f = fopen(path, "wb");
            CHECK(f && fwrite(y, sizeof(float), (size_t)outputs, f) == (size_t)outputs, "cannot write %s", path);
            if (f) fclose(f);
        }
        free(w);
        free(x);
        free(reference);
        free(y);
    }
    printf("real tensors: %d tensors at levels 0 and %d, worst level-vs-portable difference %.3g of max|y|\n", count, top, worst);
    free(entries);
    return 0;
}

int compare_real_outputs(const char *dir, const char *a_dir, const char *b_dir) {
    entry_t *entries;
    int count;
    if (read_list(dir, &entries, &count)) return 1;
    double worst = 0;
    int argmax_same = 0;
    for (int i = 0; i < count; i++) {
        const entry_t *e = &entries[i];
        int64_t outputs = e->rows * (1 + PREFILL_TOKENS);
        float *a = malloc(sizeof(float) * (size_t)outputs), *b = malloc(sizeof(float) * (size_t)outputs);
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s.f32", a_dir, e->file);
        snprintf(pb, sizeof pb, "%s/%s.f32", b_dir, e->file);
        FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
        int ok = fa && fb && fread(a, sizeof(float), (size_t)outputs, fa) == (size_t)outputs
                 && fread(b, sizeof(float), (size_t)outputs, fb) == (size_t)outputs;
        if (fa) fclose(fa);
        if (fb) fclose(fb);
        CHECK(ok, "cannot read %s or %s", pa, pb);
        if (ok) {
            int64_t bad;
            double rel = agree(a, b, outputs, &bad);
            worst = fmax(worst, rel);
            CHECK(bad == 0, "%s: %lld of %lld outputs differ across machines beyond the bound (worst %.3g of max|y|)", e->file,
                  (long long)bad, (long long)outputs, rel);
            int same = argmax(a, e->rows) == argmax(b, e->rows);
            argmax_same += same;
            CHECK(same, "%s: the decode output's arg-max differs across machines (%lld vs %lld)", e->file, (long long)argmax(a, e->rows),
                  (long long)argmax(b, e->rows));
        }
        free(a);
        free(b);
    }
    printf("real tensors across machines (%s vs %s): %d tensors, worst difference %.3g of max|y|, same arg-max in %d of %d\n",
           a_dir, b_dir, count, worst, argmax_same, count);
    free(entries);
    return 0;
}
