// The kernel test program's shared helpers: counters, checks, a seeded generator, and a loop over
// the kernel levels this CPU has. Built for arm64 (run under qemu-aarch64 at several CPU models) and
// for the host (x86-64), by run.sh. Every kernel level is checked against the portable C reference
// (level 0) of the same library, or against a Double reference written here.
#ifndef MVLM_ARM_HARNESS_H
#define MVLM_ARM_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mvlm_kernels.h"

extern long harness_passed, harness_failed;
extern int harness_verbose;

/// Records one check; prints the failure (always) with the suite's context.
#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (cond) {                                                         \
            harness_passed++;                                               \
        } else {                                                            \
            harness_failed++;                                               \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);            \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

/// splitmix64: a seeded, platform-independent generator (the same data on x86 and under qemu).
typedef struct { uint64_t state; } rng_t;

static inline uint64_t rng_next(rng_t *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// Uniform in [-1, 1).
static inline float rng_float(rng_t *r) { return (float)((double)(rng_next(r) >> 11) * 0x1.0p-52 - 1.0); }

/// Roughly normal (sum of four uniforms), scaled.
static inline float rng_normal(rng_t *r, float scale) {
    return scale * (rng_float(r) + rng_float(r) + rng_float(r) + rng_float(r)) * 0.866f;
}

static inline void rng_bytes(rng_t *r, void *out, size_t n) {
    uint8_t *p = (uint8_t *)out;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rng_next(r);
}

/// The levels to test: 0 (portable) up to the detected one.
static inline int harness_top_level(void) {
    mvlm_kernels_set_level(-1);
    return mvlm_kernels_level();
}

/// Runs the kernels at `level` on this thread (never above the detected one); returns the level used.
static inline int harness_use_level(int level) { return mvlm_kernels_set_thread_level(level); }

/// |a - b| <= atol + rtol * |b|, NaN-aware (both NaN counts as equal).
static inline int close_enough(double a, double b, double rtol, double atol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= atol + rtol * fabs(b);
}

// f16 helpers for building test data (round to nearest even, exact widening).
uint16_t harness_float_to_half(float f);
float harness_half_to_float(uint16_t h);

// Suites: each file defines one or more; main.c runs them in order. A suite that needs a level
// the CPU lacks tests up to the detected level only.
void suite_dispatch(void);
void suite_decode(void);
void suite_prefill(void);
void suite_elementwise(void);
void suite_quantize(void);
/// Q5_0, Q4_1 and Q5_1 (test_legacy.c).
void suite_legacy(void);
void suite_own(void);  // test_own.c: INT8_PC and AFFINE4
/// IQ4_NL decode and prefill (test_iq4nl.c).
void suite_iq4nl(void);
/// Real tensors (`--real DIR`): see real_tensors.c.
int run_real_tensors(const char *dir, const char *out_dir);
/// `--compare A B --real DIR`: the outputs two machines wrote with --out agree (real_tensors.c).
int compare_real_outputs(const char *dir, const char *a_dir, const char *b_dir);

#endif
