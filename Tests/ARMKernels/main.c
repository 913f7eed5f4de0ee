// The kernel test program (see harness.h). Usage:
//   mvlm-kernel-tests [--expect-level N] [--real DIR [--out DIR] | --real DIR --compare A B] [-v]
// --expect-level N fails unless the detected level is exactly N (the CPU model's features: run.sh
// passes 3 under qemu's `max`, 2 under cortex-a76, 1 under cortex-a57), so a level the CPU lacks is
// never dispatched. Ends with the line "N passed, M failed"; exit status 1 on any failure.
#include "harness.h"

long harness_passed = 0, harness_failed = 0;
int harness_verbose = 0;

uint16_t harness_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, abs = x & 0x7FFFFFFF;
    if (abs >= 0x7F800000) return (uint16_t)(sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0));
    if (abs >= 0x477FF000) return (uint16_t)(sign | 0x7C00);
    if (abs < 0x38800000) {
        float m;
        memcpy(&m, &abs, 4);
        return (uint16_t)(sign | (uint32_t)lrintf(m * 16777216.0f));
    }
    uint32_t mant = abs & 0x7FFFFF, e = (abs >> 23) - 112, h = (e << 10) | (mant >> 13), rest = mant & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

float harness_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF, bits;
    if (e == 0) {
        if (m == 0) {
            bits = sign;
        } else {
            int shift = 0;
            while ((m & 0x400) == 0) { m <<= 1; shift++; }
            bits = sign | ((uint32_t)(113 - shift) << 23) | ((m & 0x3FF) << 13);
        }
    } else if (e == 31) {
        bits = sign | 0x7F800000 | (m << 13);
    } else {
        bits = sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void suite_dispatch(void) {
    int top = harness_top_level();
    CHECK(top >= 0 && top <= mvlm_kernels_max_level(), "detected level %d outside 0...%d", top, mvlm_kernels_max_level());
    for (int level = 0; level <= mvlm_kernels_max_level() + 1; level++) {
        int used = harness_use_level(level);
        CHECK(used == (level < top ? level : top), "forcing level %d gave %d (detected %d)", level, used, top);
    }
    harness_use_level(-1);
    CHECK(mvlm_kernels_level() == top, "clearing the thread's level did not restore %d", top);
}

int main(int argc, char **argv) {
    int expect = -1;
    const char *real = NULL, *out = NULL, *compare_a = NULL, *compare_b = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect-level") && i + 1 < argc) expect = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--real") && i + 1 < argc) real = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--compare") && i + 2 < argc) {
            compare_a = argv[++i];
            compare_b = argv[++i];
        }
        else if (!strcmp(argv[i], "-v")) harness_verbose = 1;
        else {
            fprintf(stderr, "usage: %s [--expect-level N] [--real DIR [--out DIR] | --real DIR --compare A B] [-v]\n", argv[0]);
            return 64;
        }
    }
    int top = harness_top_level();
#if defined(__aarch64__)
    const char *arch = "arm64";
#elif defined(__x86_64__)
    const char *arch = "x86-64";
#else
    const char *arch = "other";
#endif
    printf("kernel tests: %s, detected level %d (build's maximum %d)\n", arch, top, mvlm_kernels_max_level());
    if (expect >= 0) CHECK(top == expect, "detected level %d, expected %d for this CPU model", top, expect);
    if (real) {
        int status = compare_a ? compare_real_outputs(real, compare_a, compare_b) : run_real_tensors(real, out);
        printf("%ld passed, %ld failed\n", harness_passed, harness_failed);
        return status || harness_failed ? 1 : 0;
    }
    suite_dispatch();
    suite_decode();
    suite_prefill();
    suite_elementwise();
    suite_quantize();
    suite_legacy();
    suite_own();
    suite_iq4nl();  // test_iq4nl.c
    printf("%ld passed, %ld failed\n", harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}
