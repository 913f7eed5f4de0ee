// Helpers shared by the kernel files (not part of the module's public header).
#ifndef MVLM_KERNELS_INTERNAL_H
#define MVLM_KERNELS_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define MVLM_X86 1
#include <immintrin.h>
// Function attributes for the vector paths; callers check mvlm_kernels_level() first.
#define MVLM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define MVLM_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c")))
#endif

#define MVLM_INLINE static inline __attribute__((always_inline))

// ---- f16 <-> f32, exact, portable ------------------------------------------------------------

static inline float mvlm_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalize
            int shift = 0;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
            mantissa &= 0x3FF;
            bits = sign | ((uint32_t)(127 - 15 - shift + 1) << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t mvlm_float_to_half(float f) {  // round to nearest even
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t abs = x & 0x7FFFFFFF;
    if (abs >= 0x7F800000) return (uint16_t)(sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0));
    if (abs >= 0x477FF000) return (uint16_t)(sign | 0x7C00);  // rounds to infinity
    if (abs < 0x38800000) {  // subnormal or zero in f16
        float magnitude;
        memcpy(&magnitude, &abs, 4);
        uint32_t q = (uint32_t)lrintf(magnitude * 16777216.0f);  // units of 2^-24, even rounding
        return (uint16_t)(sign | q);
    }
    uint32_t mantissa = abs & 0x7FFFFF, exponent = (abs >> 23) - 112;
    uint32_t half = (exponent << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

static inline float mvlm_bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t mvlm_load16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline uint32_t mvlm_load32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void mvlm_store32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

#endif
