#include "mvlm_kernels.h"

#include "internal.h"

#ifdef MVLM_X86
#include <cpuid.h>
#endif
#if defined(MVLM_ARM) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(MVLM_ARM) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#define half_to_float mvlm_half_to_float
#define float_to_half mvlm_float_to_half
#define load16 mvlm_load16

// ---- activations ----------------------------------------------------------------------------

// One Q8_0 block of decode's activations (mvlm_q8_block's arithmetic, internal.h): the f16 scale,
// then the 32 int8 values; *sum = their sum.
static inline void store_half(uint8_t *p, float d) {
    uint16_t h = float_to_half(d);
    p[0] = (uint8_t)(h & 0xFF);
    p[1] = (uint8_t)(h >> 8);
}

static void quantize_block_portable(const float *v, uint8_t *block, int32_t *sum) {
    int8_t *q = (int8_t *)(block + 2);
    store_half(block, mvlm_q8_block(v, q));
    int32_t total = 0;
    for (int i = 0; i < 32; i++) total += q[i];
    *sum = total;
}

#ifdef MVLM_X86
// mvlm_round_away8 at 16 lanes.
MVLM_AVX512 MVLM_INLINE __m512i round_away_avx512(__m512 t) {
    t = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_abs_ps(t), _mm512_set1_ps(128.0f), _CMP_LT_OQ), t);
    __m512 r = _mm512_roundscale_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 frac = _mm512_abs_ps(_mm512_sub_ps(t, r));
    __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(t, _mm512_set1_ps(-0.0f)));
    return _mm512_cvtps_epi32(_mm512_mask_add_ps(r, up, r, one));
}

MVLM_AVX512 static void quantize_block_avx512(const float *v, uint8_t *block, int32_t *sum) {
    __m512 a = _mm512_loadu_ps(v), b = _mm512_loadu_ps(v + 16);
    // max(|v|, acc) keeps acc where |v| is NaN, as fmaxf does.
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(b), _mm512_max_ps(_mm512_abs_ps(a), _mm512_setzero_ps())));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    store_half(block, d);
    __m512 vid = _mm512_set1_ps(id);
    __m512i qa = round_away_avx512(_mm512_mul_ps(a, vid)), qb = round_away_avx512(_mm512_mul_ps(b, vid));
    _mm_storeu_si128((__m128i *)(block + 2), _mm512_cvtepi32_epi8(qa));
    _mm_storeu_si128((__m128i *)(block + 18), _mm512_cvtepi32_epi8(qb));
    *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
}

MVLM_AVX2 static void quantize_block_avx2(const float *v, uint8_t *block, int32_t *sum) {
    float d;
    __m256i q = mvlm_q8_block8(v, &d);
    store_half(block, d);
    _mm256_storeu_si256((__m256i *)(block + 2), q);
    // Σq: u8 ones x s8 q in int16 pairs, then int32.
    __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    *sum = _mm_cvtsi128_si32(s4);
}
#endif

#ifdef MVLM_ARM
// ARM64 (every level): mvlm_q8_block_neon (internal.h) writes the same bytes as the portable code;
// the block sum is two SADDLV (int8 lanes summed into one int16: at most 32 · 127).
static void quantize_block_neon(const float *v, uint8_t *block, int32_t *sum) {
    int8_t *q = (int8_t *)(block + 2);
    store_half(block, mvlm_q8_block_neon(v, q));
    *sum = (int32_t)vaddlvq_s8(vld1q_s8(q)) + (int32_t)vaddlvq_s8(vld1q_s8(q + 16));
}
#endif

void mvlm_quantize_q8_0(const float *x, void *blocks, int32_t *sums, int64_t n) {
    uint8_t *out = (uint8_t *)blocks;
    int level = mvlm_kernels_level();
    for (int64_t b = 0; b < n / 32; b++) {
        int32_t total;
#ifdef MVLM_X86
        if (level == 2)
            quantize_block_avx512(x + b * 32, out + b * 34, &total);
        else if (level == 1)
            quantize_block_avx2(x + b * 32, out + b * 34, &total);
        else
#endif
#ifdef MVLM_ARM
        if (level >= 1)
            quantize_block_neon(x + b * 32, out + b * 34, &total);
        else
#endif
            quantize_block_portable(x + b * 32, out + b * 34, &total);
        if (sums) sums[b] = total;
    }
    (void)level;
}

// ---- portable kernels -------------------------------------------------------------------------

static float dot_q4_0_portable(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 18, *xb = x + b * 34;
        int32_t s = 0;
        for (int j = 0; j < 16; j++) {
            s += ((int32_t)(wb[2 + j] & 0xF) - 8) * (int8_t)xb[2 + j];
            s += ((int32_t)(wb[2 + j] >> 4) - 8) * (int8_t)xb[18 + j];
        }
        sum += half_to_float(load16(wb)) * half_to_float(load16(xb)) * (float)s;
    }
    return sum;
}

static float dot_q8_0_portable(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float sum = 0;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 34, *xb = x + b * 34;
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += (int8_t)wb[2 + j] * (int8_t)xb[2 + j];
        sum += half_to_float(load16(wb)) * half_to_float(load16(xb)) * (float)s;
    }
    return sum;
}

// Q4_K: super-blocks of 256 (144 bytes), against 8 Q8_0 activation blocks each; `xsum` holds the
// sum of each activation block's int8 values (for the min term).
static float dot_q4_K_portable(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t superblocks) {
    float sum = 0;
    for (int64_t s = 0; s < superblocks; s++) {
        const uint8_t *b = w + s * 144;
        float d = half_to_float(load16(b)), dmin = half_to_float(load16(b + 2));
        for (int j = 0; j < 8; j++) {
            int sc, m;
            mvlm_scale_min_k4(b + 4, j, &sc, &m);
            const uint8_t *q = b + 16 + (j / 2) * 32;
            const uint8_t *xb = x + (s * 8 + j) * 34;
            int shift = (j & 1) * 4;
            int32_t dot = 0;
            for (int i = 0; i < 32; i++) dot += ((q[i] >> shift) & 0xF) * (int8_t)xb[2 + i];
            float dx = half_to_float(load16(xb));
            sum += d * (float)sc * dx * (float)dot - dmin * (float)m * dx * (float)xsum[s * 8 + j];
        }
    }
    return sum;
}

// Q6_K: super-blocks of 256 (210 bytes): ql[128], qh[64], int8 scales[16], f16 d.
static float dot_q6_K_portable(const uint8_t *w, const uint8_t *x, int64_t superblocks) {
    float sum = 0;
    for (int64_t s = 0; s < superblocks; s++) {
        const uint8_t *b = w + s * 210;
        float d = half_to_float(load16(b + 208));
        const int8_t *scales = (const int8_t *)(b + 192);
        for (int k = 0; k < 8; k++) {  // activation block k: half n = k / 4, quarter g = k % 4
            int n = k / 4, g = k % 4;
            const uint8_t *xb = x + (s * 8 + k) * 34;
            int32_t dots[2] = {0, 0};
            for (int l = 0; l < 32; l++) {
                uint8_t byte = b[64 * n + l + 32 * (g & 1)];
                int lo = g < 2 ? byte & 0xF : byte >> 4;
                int hi = (b[128 + 32 * n + l] >> (2 * g)) & 3;
                dots[l / 16] += ((lo | (hi << 4)) - 32) * (int8_t)xb[2 + l];
            }
            float dx = half_to_float(load16(xb));
            sum += d * dx * ((float)scales[8 * n + 2 * g] * (float)dots[0] + (float)scales[8 * n + 2 * g + 1] * (float)dots[1]);
        }
    }
    return sum;
}

// ---- AVX2 kernels -------------------------------------------------------------------------

#ifdef MVLM_X86
#define AVX2 MVLM_AVX2

// Σ of 32 int8 products as 8 int32 lanes → floats: |w| (unsigned) times x with w's sign.
AVX2 static inline __m256 dot32(__m256i w, __m256i x) {
    __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(products, _mm256_set1_epi16(1)));
}

AVX2 static inline float scale2(const uint8_t *a, const uint8_t *b) {
    __m128 h = _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, 0, 0, (short)load16(b), (short)load16(a)));
    return _mm_cvtss_f32(h) * _mm_cvtss_f32(_mm_shuffle_ps(h, h, 1));
}

AVX2 static float dot_q4_0_avx2(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i low = _mm256_set1_epi8(0xF), eight = _mm256_set1_epi8(8);
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 18, *xb = x + b * 34;
        __m128i packed = _mm_loadu_si128((const __m128i *)(wb + 2));
        __m256i nibbles = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);  // low half: q[0..15], high: q[16..31]
        __m256i q = _mm256_sub_epi8(_mm256_and_si256(nibbles, low), eight);
        __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scale2(wb, xb)), dot32(q, xq), acc);
    }
    return mvlm_hsum8(acc);
}

AVX2 static float dot_q8_0_avx2(const uint8_t *w, const uint8_t *x, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *wb = w + b * 34, *xb = x + b * 34;
        __m256i q = _mm256_loadu_si256((const __m256i *)(wb + 2));
        __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scale2(wb, xb)), dot32(q, xq), acc);
    }
    return mvlm_hsum8(acc);
}

AVX2 static float dot_q4_K_avx2(const uint8_t *w, const uint8_t *x, const int32_t *xsum, int64_t superblocks) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i low = _mm256_set1_epi8(0xF), ones = _mm256_set1_epi16(1);
    for (int64_t s = 0; s < superblocks; s++) {
        const uint8_t *b = w + s * 144;
        float d = _cvtsh_ss(load16(b)), dmin = _cvtsh_ss(load16(b + 2));
        for (int p = 0; p < 4; p++) {  // sub-blocks 2p (low nibbles) and 2p+1 (high nibbles)
            __m256i q = _mm256_loadu_si256((const __m256i *)(b + 16 + p * 32));
            for (int half = 0; half < 2; half++) {
                int j = 2 * p + half, sc, m;
                mvlm_scale_min_k4(b + 4, j, &sc, &m);
                const uint8_t *xb = x + (s * 8 + j) * 34;
                __m256i u = half == 0 ? _mm256_and_si256(q, low) : _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
                __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, xq), ones));
                float dx = _cvtsh_ss(load16(xb));
                acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc * dx), dot, acc);
                mins += dmin * (float)m * dx * (float)xsum[s * 8 + j];
            }
        }
    }
    return mvlm_hsum8(acc) - mins;
}

AVX2 static float dot_q6_K_avx2(const uint8_t *w, const uint8_t *x, int64_t superblocks) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i low = _mm256_set1_epi8(0xF), three = _mm256_set1_epi8(3), offset = _mm256_set1_epi8(32);
    for (int64_t s = 0; s < superblocks; s++) {
        const uint8_t *b = w + s * 210;
        float d = _cvtsh_ss(load16(b + 208));
        const int8_t *scales = (const int8_t *)(b + 192);
        for (int n = 0; n < 2; n++) {
            __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * n));
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b + 64 * n));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b + 64 * n + 32));
            for (int g = 0; g < 4; g++) {
                __m256i ql = (g & 1) ? ql1 : ql0;
                __m256i lo = g < 2 ? _mm256_and_si256(ql, low) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), low);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), three);
                __m256i q = _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)), offset);
                const uint8_t *xb = x + (s * 8 + 4 * n + g) * 34;
                __m256i xq = _mm256_loadu_si256((const __m256i *)(xb + 2));
                __m256i sums = _mm256_madd_epi16(
                    _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(xq, q)), _mm256_set1_epi16(1));
                // int32 lanes 0-3 hold elements 0-15 (first scale), lanes 4-7 elements 16-31.
                __m256 scale = _mm256_setr_m128(_mm_set1_ps((float)scales[8 * n + 2 * g]), _mm_set1_ps((float)scales[8 * n + 2 * g + 1]));
                float dx = _cvtsh_ss(load16(xb));
                acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(d * dx), scale), _mm256_cvtepi32_ps(sums), acc);
            }
        }
    }
    return mvlm_hsum8(acc);
}

// 1 when AVX2, FMA and F16C are usable (CPU and OS), 2 when AVX-512 F/BW/DQ/VL with VNNI are too.
static int detect_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1;
    if (!fma || !osxsave || !f16c) return 0;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return 0;  // XMM and YMM state enabled by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((b >> 5) & 1)) return 0;  // AVX2
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    if (f && dq && bw && vl && vnni && (lo & 0xE6) == 0xE6) return 2;  // opmask and ZMM state enabled too
    return 1;
}
#elif defined(MVLM_ARM)
// ---- ARM64 kernels: matvec_q8_arm_body.h twice (SDOT at level 2 and up, SMULL/SMLAL2/SADALP at 1) --

#define ARM_DOT 1
#include "matvec_q8_arm_body.h"
#undef ARM_DOT
#define ARM_DOT 0
#include "matvec_q8_arm_body.h"
#undef ARM_DOT

// 1 NEON (every arm64 CPU), 2 with the dot-product extension, 3 with int8 matrix multiply too.
// Linux and Android: the kernel's hardware capabilities (HWCAP_ASIMDDP bit 20, HWCAP2_I8MM bit 13,
// HWCAP_ASIMDHP bit 10 for FP16 arithmetic); Apple: the hw.optional.arm.FEAT_* sysctls.
static int arm_fp16 = -1;

#if defined(__APPLE__)
static int apple_feature(const char *name) {
    int value = 0;
    size_t size = sizeof(value);
    return sysctlbyname(name, &value, &size, NULL, 0) == 0 && value != 0;
}
#endif

static int detect_level(void) {
#if defined(__linux__)
    unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    int dotprod = (hwcap >> 20) & 1, i8mm = (hwcap2 >> 13) & 1;
    arm_fp16 = (int)((hwcap >> 10) & 1);
#elif defined(__APPLE__)
    int dotprod = apple_feature("hw.optional.arm.FEAT_DotProd"), i8mm = apple_feature("hw.optional.arm.FEAT_I8MM");
    arm_fp16 = apple_feature("hw.optional.arm.FEAT_FP16");
#else
    int dotprod = 0, i8mm = 0;
    arm_fp16 = 0;
#endif
    if (!dotprod) return 1;
    return i8mm ? 3 : 2;
}

int mvlm_arm_has_fp16(void) {
    if (arm_fp16 < 0) (void)mvlm_kernels_level();
    return arm_fp16 > 0;
}
#else
static int detect_level(void) { return 0; }
#endif

static int detected = -1, forced = -1;
static _Thread_local int thread_forced = -1;

int mvlm_kernels_level(void) {
    if (detected < 0) detected = detect_level();
    int level = thread_forced >= 0 ? thread_forced : forced;
    return level >= 0 && level < detected ? level : detected;
}

int mvlm_kernels_set_level(int level) {
    forced = level < 0 ? -1 : (level > MVLM_MAX_LEVEL ? MVLM_MAX_LEVEL : level);
    return mvlm_kernels_level();
}

int mvlm_kernels_set_thread_level(int level) {
    thread_forced = level < 0 ? -1 : (level > MVLM_MAX_LEVEL ? MVLM_MAX_LEVEL : level);
    return mvlm_kernels_level();
}

void mvlm_matvec_q8(int type, const void *w, size_t row_bytes, int64_t first, int64_t last,
                    const void *xq, const int32_t *xsum, int64_t n, float *y) {
    if (type == 4) {  // IQ4_NL (iq4nl.c)
        mvlm_matvec_iq4nl(w, row_bytes, first, last, xq, xsum, n, y);
        return;
    }
    const uint8_t *rows = (const uint8_t *)w;
    const uint8_t *x = (const uint8_t *)xq;
    if (type >= MVLM_Q8_INT8_PC) {  // the toolkit's own types: matvec_own.c
        mvlm_matvec_own(type, rows, row_bytes, first, last, x, xsum, n, y);
        return;
    }
    int64_t blocks = n / 32;
    int avx2 = mvlm_kernels_level();
#ifdef MVLM_ARM
    // Level 3 (i8mm) runs the dot-product code: SMMLA multiplies 2x8 by 8x2 matrices, which a
    // matrix x vector product cannot fill.
    if (avx2 >= 2) {
        matvec_q8_dotprod(type, rows, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
    if (avx2 == 1) {
        matvec_q8_neon(type, rows, row_bytes, first, last, x, xsum, blocks, y);
        return;
    }
#endif
    for (int64_t r = first; r < last; r++) {
        const uint8_t *row = rows + (size_t)r * row_bytes;
        float value;
#ifdef MVLM_X86
        if (avx2) {
            switch (type) {
            case 0: value = dot_q4_0_avx2(row, x, blocks); break;
            case 1: value = dot_q8_0_avx2(row, x, blocks); break;
            case 2: value = dot_q4_K_avx2(row, x, xsum, blocks / 8); break;
            default: value = dot_q6_K_avx2(row, x, blocks / 8); break;
            }
            y[r] = value;
            continue;
        }
#endif
        switch (type) {
        case 0: value = dot_q4_0_portable(row, x, blocks); break;
        case 1: value = dot_q8_0_portable(row, x, blocks); break;
        case 2: value = dot_q4_K_portable(row, x, xsum, blocks / 8); break;
        default: value = dot_q6_K_portable(row, x, blocks / 8); break;
        }
        y[r] = value;
    }
    (void)avx2;
}

// ---- Read bandwidth ------------------------------------------------------------------------------
// A plain read of every byte (a wrapping 64-bit sum, so the loads cannot be dropped), in the widest
// vectors the CPU has and four independent sums: what the memory system delivers to a kernel that
// does nothing with the bytes. Every level returns the same sum: whole 8-byte little-endian words,
// then the last count % 8 bytes one by one.

static uint64_t read_sum_tail(const uint8_t *p, int64_t count) {
    uint64_t total = 0;
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        total += w;
    }
    for (; i < count; i++) total += p[i];
    return total;
}

#ifdef MVLM_X86
MVLM_AVX512 static uint64_t read_sum_avx512(const uint8_t *p, int64_t bytes) {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 256 <= bytes; i += 256) {
        s0 = _mm512_add_epi64(s0, _mm512_loadu_si512(p + i));
        s1 = _mm512_add_epi64(s1, _mm512_loadu_si512(p + i + 64));
        s2 = _mm512_add_epi64(s2, _mm512_loadu_si512(p + i + 128));
        s3 = _mm512_add_epi64(s3, _mm512_loadu_si512(p + i + 192));
    }
    uint64_t total = (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)));
    return total + read_sum_tail(p + i, bytes - i);
}

MVLM_AVX2 static uint64_t read_sum_avx2(const uint8_t *p, int64_t bytes) {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 128 <= bytes; i += 128) {
        s0 = _mm256_add_epi64(s0, _mm256_loadu_si256((const __m256i *)(p + i)));
        s1 = _mm256_add_epi64(s1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        s2 = _mm256_add_epi64(s2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        s3 = _mm256_add_epi64(s3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + read_sum_tail(p + i, bytes - i);
}
#endif

#ifdef MVLM_ARM
// Every level: 128-bit loads (LDP of two q registers) into four 64-bit-lane sums (ADD .2d).
static uint64_t read_sum_neon(const uint8_t *p, int64_t bytes) {
    uint64x2_t s0 = vdupq_n_u64(0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= bytes; i += 64) {
        MVLM_MCA_BEGIN("read_sum_neon");
        s0 = vaddq_u64(s0, vreinterpretq_u64_u8(vld1q_u8(p + i)));
        s1 = vaddq_u64(s1, vreinterpretq_u64_u8(vld1q_u8(p + i + 16)));
        s2 = vaddq_u64(s2, vreinterpretq_u64_u8(vld1q_u8(p + i + 32)));
        s3 = vaddq_u64(s3, vreinterpretq_u64_u8(vld1q_u8(p + i + 48)));
        MVLM_MCA_END("read_sum_neon");
    }
    return vaddvq_u64(vaddq_u64(vaddq_u64(s0, s1), vaddq_u64(s2, s3))) + read_sum_tail(p + i, bytes - i);
}
#endif

uint64_t mvlm_read_sum(const void *bytes, int64_t count) {
    const uint8_t *p = (const uint8_t *)bytes;
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) return read_sum_neon(p, count);
#endif
#ifdef MVLM_X86
    int level = mvlm_kernels_level();
    if (level == 2) return read_sum_avx512(p, count);
    if (level == 1) return read_sum_avx2(p, count);
#endif
    return read_sum_tail(p, count);
}

int mvlm_kernels_max_level(void) { return MVLM_MAX_LEVEL; }
