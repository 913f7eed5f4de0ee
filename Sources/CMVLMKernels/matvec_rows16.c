// Decode (matrix x vector) on weights stored in the rows16 layout (Formats/mvlm.md, "Repacked
// layouts"): the blocks of 16 consecutive rows are interleaved so that every 64 bytes hold the same
// 4 bytes of all 16 rows. One 512-bit load then feeds one VPDPBUSD whose 16 int32 lanes are the 16
// rows' partial dot products against 4 broadcast activations (AVX-512 VNNI), or two 256-bit halves
// feed VPMADDUBSW + VPMADDWD (AVX2); no transposes and no horizontal sums at run time, which is
// what the row-major kernels in kernels.c spend most of their instructions on. The same layout
// serves ARM's SDOT by element (4 rows per 128-bit register: rows16_arm_body.h).
//
// Records (per group of 16 rows and per block, or super-block for the K types):
//   Q4_0  288 B: d[16] f16 | qs dwords [4][16]
//   Q8_0  544 B: d[16] f16 | qs dwords [8][16]
//   Q4_K 2304 B: d[16] f16 | dmin[16] f16 | scales dwords [3][16] | qs dwords [32][16]
//   Q6_K 3360 B: ql dwords [32][16] | qh dwords [16][16] | scales dwords [4][16] | d[16] f16
// (each row block's fields in their GGUF order, each f16 field as 16 consecutive values, each byte
// field as dwords c = 0, 1, ... of rows 0..15).
//
// Integer dot products are exact: unsigned weights (nibbles, Q6_K's q + 32, Q8_0's q + 128 by an
// XOR in registers on x86; ARM's SDOT takes Q8_0's signed q as stored) times signed activations,
// with the accumulator starting at -offset · Σx.
// Only the f32 scaling and summation round, so results equal the row-major kernels' up to f32
// rounding order.

#include "internal.h"
#include "mvlm_kernels.h"

enum { T_Q4_0 = 0, T_Q8_0 = 1, T_Q4_K = 2, T_Q6_K = 3 };

int64_t mvlm_rows16_record_bytes(int type) {
    switch (type) {
    case T_Q4_0: return 288;
    case T_Q8_0: return 544;
    case T_Q4_K: return 2304;
    case T_Q6_K: return 3360;
    default: return 0;
    }
}

static int64_t records_per_row(int type, int64_t n) { return type == T_Q4_K || type == T_Q6_K ? n / 256 : n / 32; }

void mvlm_q8_prepare(const void *xq, int64_t n, float *xd, int32_t *xsum16) {
    const uint8_t *x = (const uint8_t *)xq;
#ifdef MVLM_ARM
    if (mvlm_kernels_level() >= 1) {  // FCVT and two SADDLV per block
        for (int64_t b = 0; b < n / 32; b++) {
            const uint8_t *blk = x + b * 34;
            xd[b] = mvlm_arm_f16(blk);
            xsum16[2 * b] = vaddlvq_s8(vld1q_s8((const int8_t *)blk + 2));
            xsum16[2 * b + 1] = vaddlvq_s8(vld1q_s8((const int8_t *)blk + 18));
        }
        return;
    }
#endif
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = x + b * 34;
        xd[b] = mvlm_half_to_float(mvlm_load16(blk));
        int32_t lo = 0, hi = 0;
        for (int i = 0; i < 16; i++) {
            lo += (int8_t)blk[2 + i];
            hi += (int8_t)blk[18 + i];
        }
        xsum16[2 * b] = lo;
        xsum16[2 * b + 1] = hi;
    }
}

// Dword c of row r in a byte field of a record.
static inline uint32_t field_dword(const uint8_t *field, int c, int r) { return mvlm_load32(field + ((size_t)c * 16 + r) * 4); }

// Signed int8 byte i (0..3) of a dword.
static inline int32_t byte_s(uint32_t v, int i) { return (int8_t)(uint8_t)(v >> (8 * i)); }
static inline int32_t byte_u(uint32_t v, int i) { return (uint8_t)(v >> (8 * i)); }

// ---- portable ----------------------------------------------------------------------------------

static void row16_portable(int type, const uint8_t *rec0, int64_t records, const uint8_t *x, const float *xd,
                           const int32_t *xsum16, float *y) {
    int64_t rb = mvlm_rows16_record_bytes(type);
    for (int r = 0; r < 16; r++) {
        float acc = 0;
        for (int64_t s = 0; s < records; s++) {
            const uint8_t *rec = rec0 + s * rb;
            switch (type) {
            case T_Q4_0: {
                const uint8_t *xb = x + s * 34 + 2;
                int32_t dot = 0;
                for (int c = 0; c < 4; c++) {
                    uint32_t v = field_dword(rec + 32, c, r);
                    for (int i = 0; i < 4; i++) {
                        dot += ((byte_u(v, i) & 15) - 8) * (int8_t)xb[4 * c + i];
                        dot += ((byte_u(v, i) >> 4) - 8) * (int8_t)xb[16 + 4 * c + i];
                    }
                }
                acc += mvlm_half_to_float(mvlm_load16(rec + 2 * r)) * xd[s] * (float)dot;
                break;
            }
            case T_Q8_0: {
                const uint8_t *xb = x + s * 34 + 2;
                int32_t dot = 0;
                for (int c = 0; c < 8; c++) {
                    uint32_t v = field_dword(rec + 32, c, r);
                    for (int i = 0; i < 4; i++) dot += byte_s(v, i) * (int8_t)xb[4 * c + i];
                }
                acc += mvlm_half_to_float(mvlm_load16(rec + 2 * r)) * xd[s] * (float)dot;
                break;
            }
            case T_Q4_K: {
                float d = mvlm_half_to_float(mvlm_load16(rec + 2 * r)), dmin = mvlm_half_to_float(mvlm_load16(rec + 32 + 2 * r));
                uint8_t sc12[12];
                for (int c = 0; c < 3; c++) mvlm_store32(sc12 + 4 * c, field_dword(rec + 64, c, r));
                for (int j = 0; j < 8; j++) {
                    int sc, m;
                    mvlm_scale_min_k4(sc12, j, &sc, &m);
                    const uint8_t *xb = x + (s * 8 + j) * 34 + 2;
                    int32_t dot = 0;
                    for (int c = 0; c < 8; c++) {
                        uint32_t v = field_dword(rec + 256, 8 * (j / 2) + c, r);
                        for (int i = 0; i < 4; i++) dot += ((byte_u(v, i) >> (4 * (j & 1))) & 15) * (int8_t)xb[4 * c + i];
                    }
                    int64_t blk = s * 8 + j;
                    acc += d * (float)sc * xd[blk] * (float)dot - dmin * (float)m * xd[blk] * (float)(xsum16[2 * blk] + xsum16[2 * blk + 1]);
                }
                break;
            }
            default: {  // Q6_K
                float d = mvlm_half_to_float(mvlm_load16(rec + 3328 + 2 * r));
                for (int kb = 0; kb < 8; kb++) {
                    int n = kb / 4, g4 = kb % 4;
                    const uint8_t *xb = x + (s * 8 + kb) * 34 + 2;
                    int32_t dots[2] = {0, 0};
                    for (int c = 0; c < 8; c++) {
                        uint32_t l = field_dword(rec, 16 * n + 8 * (g4 & 1) + c, r);
                        uint32_t h = field_dword(rec + 2048, 8 * n + c, r);
                        for (int i = 0; i < 4; i++) {
                            int lo = (byte_u(l, i) >> (g4 < 2 ? 0 : 4)) & 15, hi = (byte_u(h, i) >> (2 * g4)) & 3;
                            dots[c / 4] += ((lo | (hi << 4)) - 32) * (int8_t)xb[4 * c + i];
                        }
                    }
                    uint32_t sv = field_dword(rec + 3072, kb / 2, r);
                    int32_t s0 = byte_s(sv, (2 * kb) % 4), s1 = byte_s(sv, (2 * kb + 1) % 4);
                    acc += d * xd[s * 8 + kb] * ((float)s0 * (float)dots[0] + (float)s1 * (float)dots[1]);
                }
                break;
            }
            }
        }
        y[r] = acc;
    }
}

#ifdef MVLM_X86

// ---- AVX-512 VNNI --------------------------------------------------------------------------------

#define LOADZ(p) _mm512_loadu_si512((const void *)(p))
#define BCAST(p) _mm512_set1_epi32((int)mvlm_load32(p))

MVLM_AVX512 MVLM_INLINE __m512 half16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

MVLM_AVX512 static void group_q4_0_avx512(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    const __m512i nib = _mm512_set1_epi8(0x0F);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t s = 0;
    for (; s < records; s++, rec += 288) {
        const uint8_t *xb = x + s * 34 + 2;
        __m512i lo = _mm512_set1_epi32(-8 * xsum16[2 * s]), hi = _mm512_set1_epi32(-8 * xsum16[2 * s + 1]);
        for (int c = 0; c < 4; c++) {
            __m512i v = LOADZ(rec + 32 + 64 * c);
            lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v, nib), BCAST(xb + 4 * c));
            hi = _mm512_dpbusd_epi32(hi, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib), BCAST(xb + 16 + 4 * c));
        }
        __m512 scale = _mm512_mul_ps(half16(rec), _mm512_set1_ps(xd[s]));
        if (s & 1)
            acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(lo, hi)), scale, acc1);
        else
            acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(lo, hi)), scale, acc0);
    }
    _mm512_storeu_ps(y, _mm512_add_ps(acc0, acc1));
}

MVLM_AVX512 static void group_q8_0_avx512(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int64_t s = 0; s < records; s++, rec += 544) {
        const uint8_t *xb = x + s * 34 + 2;
        __m512i a = _mm512_set1_epi32(-128 * xsum16[2 * s]), b = _mm512_set1_epi32(-128 * xsum16[2 * s + 1]);
        for (int c = 0; c < 4; c++) {
            a = _mm512_dpbusd_epi32(a, _mm512_xor_si512(LOADZ(rec + 32 + 64 * c), flip), BCAST(xb + 4 * c));
            b = _mm512_dpbusd_epi32(b, _mm512_xor_si512(LOADZ(rec + 32 + 64 * (c + 4)), flip), BCAST(xb + 16 + 4 * c));
        }
        __m512 scale = _mm512_mul_ps(half16(rec), _mm512_set1_ps(xd[s]));
        if (s & 1)
            acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, b)), scale, acc1);
        else
            acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, b)), scale, acc0);
    }
    _mm512_storeu_ps(y, _mm512_add_ps(acc0, acc1));
}

// Byte j % 4 of every int32 lane, as int32 lanes.
MVLM_AVX512 MVLM_INLINE __m512i byte_lane(__m512i v, int j) {
    return _mm512_and_si512(_mm512_srli_epi32(v, 8 * (j % 4)), _mm512_set1_epi32(0xFF));
}

MVLM_AVX512 static void group_q4_K_avx512(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    const __m512i nib = _mm512_set1_epi8(0x0F), low6 = _mm512_set1_epi8(0x3F), high2 = _mm512_set1_epi8(0x30);
    __m512 acc = _mm512_setzero_ps(), macc = _mm512_setzero_ps();
    for (int64_t s = 0; s < records; s++, rec += 2304) {
        // The 6-bit scales and mins of all 8 sub-blocks as bytes (byte j % 4 of each lane): sub-blocks
        // 0-3 are the low 6 bits of scale bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 take the
        // nibbles of bytes 8-11 and the top 2 bits of bytes 0-3 / 4-7 (llama.cpp's get_scale_min_k4).
        __m512i q0 = LOADZ(rec + 64), q1 = LOADZ(rec + 128), q2 = LOADZ(rec + 192);
        __m512i s03 = _mm512_and_si512(q0, low6), m03 = _mm512_and_si512(q1, low6);
        __m512i s47 = _mm512_or_si512(_mm512_and_si512(q2, nib), _mm512_and_si512(_mm512_srli_epi32(q0, 2), high2));
        __m512i m47 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(q2, 4), nib), _mm512_and_si512(_mm512_srli_epi32(q1, 2), high2));
        const uint8_t *xs = x + s * 8 * 34 + 2;
        const float *ds = xd + s * 8;
        const int32_t *sums = xsum16 + s * 16;
        __m512 local = _mm512_setzero_ps(), mins = _mm512_setzero_ps();
        for (int p = 0; p < 4; p++) {
            const uint8_t *xa = xs + (2 * p) * 34, *xb = xa + 34;
            __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
            const uint8_t *q = rec + 256 + 64 * 8 * p;
            for (int c = 0; c < 8; c++) {
                __m512i v = LOADZ(q + 64 * c);
                lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v, nib), BCAST(xa + 4 * c));
                hi = _mm512_dpbusd_epi32(hi, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib), BCAST(xb + 4 * c));
            }
            int j = 2 * p;
            __m512i sa = byte_lane(j < 4 ? s03 : s47, j), sb = byte_lane(j < 4 ? s03 : s47, j + 1);
            local = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_mullo_epi32(lo, sa)), _mm512_set1_ps(ds[j]), local);
            local = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_mullo_epi32(hi, sb)), _mm512_set1_ps(ds[j + 1]), local);
            __m512i ma = byte_lane(j < 4 ? m03 : m47, j), mb = byte_lane(j < 4 ? m03 : m47, j + 1);
            mins = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ma), _mm512_set1_ps(ds[j] * (float)(sums[2 * j] + sums[2 * j + 1])), mins);
            mins = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mb), _mm512_set1_ps(ds[j + 1] * (float)(sums[2 * j + 2] + sums[2 * j + 3])), mins);
        }
        acc = _mm512_fmadd_ps(half16(rec), local, acc);
        macc = _mm512_fmadd_ps(half16(rec + 32), mins, macc);
    }
    _mm512_storeu_ps(y, _mm512_sub_ps(acc, macc));
}

// A compiler barrier: memory accesses are not moved across it (the CPU may still reorder them).
#define MVLM_LOAD_ORDER() __asm__ volatile("" ::: "memory")

MVLM_AVX512 static void group_q6_K_avx512(const uint8_t *rec, int64_t records, const uint8_t *x, const float *xd,
                                          const int32_t *xsum16, float *y) {
    const __m512i nib = _mm512_set1_epi8(0x0F), top = _mm512_set1_epi8(0x30);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t s = 0; s < records; s++, rec += 3360) {
        // Each record is read once, front to back: first the 32 ql lines, then the 16 qh lines.
        // A 6-bit weight is nibble + 16·(2 qh bits), so its product with an activation splits into
        // a nibble dot product and a qh dot product (the bits masked in place at 16·h, 0..48), and
        // both go into the same int32 accumulator: one per 16-weight sub-block (16 of them, each
        // starting at -32·Σx). Reading ql and qh side by side, as the weights are formed, made two
        // interleaved streams in one record that the hardware prefetchers did not follow: the
        // kernel read DRAM at 9 GB/s on one Zen 4 thread against 25 GB/s now (docs/performance.md).
        // The compiler barriers keep clang from interleaving the passes' loads again.
        const uint8_t *xs = x + s * 8 * 34 + 2;
        const float *ds = xd + s * 8;
        const int32_t *sums = xsum16 + s * 16;
        __m512i sub[16];  // sub[2k + h]: block k's 16 weights h (k = 4n + j: half n, quarter j)
#pragma clang loop unroll(full)
        for (int i = 0; i < 16; i++) sub[i] = _mm512_set1_epi32(-32 * sums[i]);
        // ql dword c of half n, quarter pair p (p = 0: dwords 0-7, p = 1: 8-15): low nibbles are
        // block 4n + p, high nibbles block 4n + 2 + p; dwords c < 4 the first 16 weights.
#pragma clang loop unroll(full)
        for (int line = 0; line < 32; line++) {
            if (line % 16 == 0) MVLM_LOAD_ORDER();
            int n = line / 16, p = (line / 8) % 2, c = line % 8, h = c / 4;
            int lo = 4 * n + p, hi = lo + 2;
            __m512i v = LOADZ(rec + 64 * line);
            sub[2 * lo + h] = _mm512_dpbusd_epi32(sub[2 * lo + h], _mm512_and_si512(v, nib), BCAST(xs + lo * 34 + 4 * c));
            sub[2 * hi + h] = _mm512_dpbusd_epi32(sub[2 * hi + h], _mm512_and_si512(_mm512_srli_epi16(v, 4), nib),
                                                  BCAST(xs + hi * 34 + 4 * c));
        }
        // qh dword c of half n: bits 2j, 2j + 1 of each byte belong to block 4n + j, moved to bits
        // 4-5 (16-bit shifts; the bits that cross into the neighbouring byte are masked off).
        MVLM_LOAD_ORDER();
#pragma clang loop unroll(full)
        for (int line = 0; line < 16; line++) {
            int n = line / 8, c = line % 8, h = c / 4, k = 4 * n;
            __m512i v = LOADZ(rec + 2048 + 64 * line);
            __m512i q0 = _mm512_and_si512(_mm512_slli_epi16(v, 4), top), q1 = _mm512_and_si512(_mm512_slli_epi16(v, 2), top);
            __m512i q2 = _mm512_and_si512(v, top), q3 = _mm512_and_si512(_mm512_srli_epi16(v, 2), top);
            sub[2 * k + h] = _mm512_dpbusd_epi32(sub[2 * k + h], q0, BCAST(xs + k * 34 + 4 * c));
            sub[2 * k + 2 + h] = _mm512_dpbusd_epi32(sub[2 * k + 2 + h], q1, BCAST(xs + (k + 1) * 34 + 4 * c));
            sub[2 * k + 4 + h] = _mm512_dpbusd_epi32(sub[2 * k + 4 + h], q2, BCAST(xs + (k + 2) * 34 + 4 * c));
            sub[2 * k + 6 + h] = _mm512_dpbusd_epi32(sub[2 * k + 6 + h], q3, BCAST(xs + (k + 3) * 34 + 4 * c));
        }
        // int8 scales of sub-blocks 2k, 2k + 1 are bytes (2k) % 4, +1 of scale dword k / 2.
        __m512 local = _mm512_setzero_ps();
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++) {
            __m512i w = LOADZ(rec + 3072 + 64 * (k / 2));
            int sh = 8 * ((2 * k) % 4);
            __m512i t = _mm512_add_epi32(_mm512_mullo_epi32(sub[2 * k], _mm512_srai_epi32(_mm512_slli_epi32(w, 24 - sh), 24)),
                                         _mm512_mullo_epi32(sub[2 * k + 1], _mm512_srai_epi32(_mm512_slli_epi32(w, 16 - sh), 24)));
            local = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_set1_ps(ds[k]), local);
        }
        acc = _mm512_fmadd_ps(half16(rec + 3328), local, acc);
    }
    _mm512_storeu_ps(y, acc);
}

// ---- AVX2: each group as two halves of 8 rows ------------------------------------------------------

#define LOADY(p) _mm256_loadu_si256((const __m256i *)(p))
#define BCASTY(p) _mm256_set1_epi32((int)mvlm_load32(p))

// Σ over 4-byte groups of u8 w times s8 x, as 8 int32 lanes, added to acc.
MVLM_AVX2 MVLM_INLINE __m256i dot_u8s8(__m256i acc, __m256i w, __m256i x) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1)));
}

MVLM_AVX2 MVLM_INLINE __m256 half8(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

// `ahead` is a later group (or NULL) whose records are prefetched while this group is computed, so
// that memory reads overlap the arithmetic (the first half streams the current group, the second
// works on lines the first brought into the cache). Always inlined with a constant `type`, so each
// type gets its own loop without a switch per record. Distances measured on Zen 3 (AVX2, 2 cores).
MVLM_AVX2 MVLM_INLINE void group_avx2(int type, const uint8_t *rec0, int64_t records, const uint8_t *x, const float *xd,
                                      const int32_t *xsum16, float *y, const uint8_t *ahead) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    int64_t rb = mvlm_rows16_record_bytes(type);
    for (int half = 0; half < 2; half++) {
        int o = 32 * half;  // byte offset of rows 8..15 within each 64-byte dword row
        __m256 acc = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
        const uint8_t *rec = rec0;
        for (int64_t s = 0; s < records; s++, rec += rb) {
            // Q4_0/Q8_0 (little arithmetic per byte): `ahead` is two groups on, prefetched over
            // both halves; Q4_K/Q6_K: the next group, in the second half only (farther ahead, the
            // prefetched lines evict the current group from L1 before its second half).
            int light = type == T_Q4_0 || type == T_Q8_0;
            if (ahead && (light ? (s & 1) == half : half == 1)) {
                const uint8_t *p = ahead + s * rb;
                for (int64_t line = 0; line < rb; line += 64) _mm_prefetch((const char *)(p + line), _MM_HINT_T0);
            }
            switch (type) {
            case T_Q4_0: {
                const uint8_t *xb = x + s * 34 + 2;
                __m256i lo = _mm256_set1_epi32(-8 * xsum16[2 * s]), hi = _mm256_set1_epi32(-8 * xsum16[2 * s + 1]);
                for (int c = 0; c < 4; c++) {
                    __m256i v = LOADY(rec + 32 + 64 * c + o);
                    lo = dot_u8s8(lo, _mm256_and_si256(v, nib), BCASTY(xb + 4 * c));
                    hi = dot_u8s8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib), BCASTY(xb + 16 + 4 * c));
                }
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(lo, hi)),
                                      _mm256_mul_ps(half8(rec + 16 * half), _mm256_set1_ps(xd[s])), acc);
                break;
            }
            case T_Q8_0: {
                const uint8_t *xb = x + s * 34 + 2;
                __m256i a = _mm256_setzero_si256();
                for (int c = 0; c < 8; c++) {
                    __m256i w = LOADY(rec + 32 + 64 * c + o), xv = BCASTY(xb + 4 * c);
                    a = dot_u8s8(a, _mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w));
                }
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), _mm256_mul_ps(half8(rec + 16 * half), _mm256_set1_ps(xd[s])), acc);
                break;
            }
            case T_Q4_K: {
                __m256i q0 = LOADY(rec + 64 + o), q1 = LOADY(rec + 128 + o), q2 = LOADY(rec + 192 + o);
                const uint8_t *xs = x + s * 8 * 34 + 2;
                const float *ds = xd + s * 8;
                const int32_t *sums = xsum16 + s * 16;
                __m256 local = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
                // Sub-blocks 2p and 2p+1 share their bytes (low and high nibbles): one load feeds
                // both. Products are summed as int16 (8 VPMADDUBSW results of at most 2·15·127
                // each: 30480 < 32767) and one VPMADDWD by the 6-bit scale, duplicated into both
                // int16 halves of each row's lane, gives scale · dot exactly.
#pragma clang loop unroll(full)
                for (int p = 0; p < 4; p++) {
                    int j = 2 * p;
                    __m256i sca, ma, scb, mb;
                    mvlm_q4k_scale_min8(q0, q1, q2, j, &sca, &ma);
                    mvlm_q4k_scale_min8(q0, q1, q2, j + 1, &scb, &mb);
                    const uint8_t *xa = xs + j * 34, *xb = xa + 34;
                    const uint8_t *q = rec + 256 + 64 * 8 * p + o;
                    __m256i suma = _mm256_setzero_si256(), sumb = _mm256_setzero_si256();
                    for (int c = 0; c < 8; c++) {
                        __m256i v = LOADY(q + 64 * c);
                        suma = _mm256_add_epi16(suma, _mm256_maddubs_epi16(_mm256_and_si256(v, nib), BCASTY(xa + 4 * c)));
                        sumb = _mm256_add_epi16(
                            sumb, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), nib), BCASTY(xb + 4 * c)));
                    }
                    __m256i dota = _mm256_madd_epi16(suma, _mm256_or_si256(sca, _mm256_slli_epi32(sca, 16)));
                    __m256i dotb = _mm256_madd_epi16(sumb, _mm256_or_si256(scb, _mm256_slli_epi32(scb, 16)));
                    local = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dota), _mm256_set1_ps(ds[j]), local);
                    local = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dotb), _mm256_set1_ps(ds[j + 1]), local);
                    mins = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ma), _mm256_set1_ps(ds[j] * (float)(sums[2 * j] + sums[2 * j + 1])), mins);
                    mins = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mb),
                                           _mm256_set1_ps(ds[j + 1] * (float)(sums[2 * j + 2] + sums[2 * j + 3])), mins);
                }
                acc = _mm256_fmadd_ps(half8(rec + 16 * half), local, acc);
                macc = _mm256_fmadd_ps(half8(rec + 32 + 16 * half), mins, macc);
                break;
            }
            default: {  // Q6_K
                const uint8_t *xs = x + s * 8 * 34 + 2;
                const float *ds = xd + s * 8;
                const int32_t *sums = xsum16 + s * 16;
                const __m256i high2 = _mm256_set1_epi8(0x30);
                __m256 local = _mm256_setzero_ps();
                // Unrolled: each copy has constant g4, so the nibble and qh shifts are fixed.
#pragma clang loop unroll(full)
                for (int kb = 0; kb < 8; kb++) {
                    int n = kb / 4, g4 = kb % 4;
                    const uint8_t *xb = xs + kb * 34;
                    const uint8_t *ql = rec + 64 * (16 * n + 8 * (g4 & 1)) + o, *qh = rec + 2048 + 64 * 8 * n + o;
                    // int16 sums of two VPMADDUBSW results (q <= 63: 2 * 2·63·127 = 32004 < 32767),
                    // then one VPMADDWD by the sub-block's scale per pair; the -32·Σx offset is
                    // added in float below.
                    __m256i d0 = _mm256_setzero_si256(), d1 = _mm256_setzero_si256();
                    __m256i word = LOADY(rec + 3072 + 64 * (kb / 2) + o);
                    int shift = 8 * ((2 * kb) % 4);
                    __m256i s0 = _mm256_srai_epi32(_mm256_slli_epi32(word, 24 - shift), 24);
                    __m256i s1 = _mm256_srai_epi32(_mm256_slli_epi32(word, 16 - shift), 24);
                    __m256i s0w = _mm256_or_si256(_mm256_and_si256(s0, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(s0, 16));
                    __m256i s1w = _mm256_or_si256(_mm256_and_si256(s1, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(s1, 16));
                    for (int c = 0; c < 8; c += 2) {
                        __m256i pair = _mm256_setzero_si256();
                        for (int k = 0; k < 2; k++) {
                            __m256i l = LOADY(ql + 64 * (c + k)), h = LOADY(qh + 64 * (c + k));
                            l = g4 < 2 ? _mm256_and_si256(l, nib) : _mm256_and_si256(_mm256_srli_epi16(l, 4), nib);
                            // Bits 2·g4, 2·g4+1 of each qh byte moved to bits 4-5 (16-bit shifts: the
                            // bits that cross into the neighbouring byte are masked off).
                            switch (g4) {
                            case 0: h = _mm256_slli_epi16(h, 4); break;
                            case 1: h = _mm256_slli_epi16(h, 2); break;
                            case 3: h = _mm256_srli_epi16(h, 2); break;
                            default: break;
                            }
                            __m256i w = _mm256_or_si256(l, _mm256_and_si256(h, high2));
                            pair = _mm256_add_epi16(pair, _mm256_maddubs_epi16(w, BCASTY(xb + 4 * (c + k))));
                        }
                        if (c < 4)
                            d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(pair, s0w));
                        else
                            d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(pair, s1w));
                    }
                    __m256i total = _mm256_add_epi32(d0, d1);
                    __m256i offset = _mm256_add_epi32(_mm256_mullo_epi32(s0, _mm256_set1_epi32(-32 * sums[2 * kb])),
                                                      _mm256_mullo_epi32(s1, _mm256_set1_epi32(-32 * sums[2 * kb + 1])));
                    local = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(total, offset)), _mm256_set1_ps(ds[kb]), local);
                }
                acc = _mm256_fmadd_ps(half8(rec + 3328 + 16 * half), local, acc);
                break;
            }
            }
        }
        _mm256_storeu_ps(y + 8 * half, _mm256_sub_ps(acc, macc));
    }
}

// Groups [first, last) on AVX2, one specialized loop per type.
#define GROUPS_AVX2(T)                                                                                   \
    for (int64_t g = first; g < last; g++) {                                                            \
        const uint8_t *rec = base + (size_t)g * (size_t)group_bytes;                                    \
        int64_t d = (T == T_Q4_0 || T == T_Q8_0) ? 2 : 1;                                                \
        group_avx2(T, rec, records, x, xd, xsum16, y + g * 16, g + d < last ? rec + d * group_bytes : NULL); \
    }
MVLM_AVX2 static void groups_avx2(int type, const uint8_t *base, int64_t first, int64_t last, int64_t records,
                                  int64_t group_bytes, const uint8_t *x, const float *xd, const int32_t *xsum16, float *y) {
    switch (type) {
    case T_Q4_0: GROUPS_AVX2(T_Q4_0) break;
    case T_Q8_0: GROUPS_AVX2(T_Q8_0) break;
    case T_Q4_K: GROUPS_AVX2(T_Q4_K) break;
    default: GROUPS_AVX2(T_Q6_K) break;
    }
}
#undef GROUPS_AVX2

#endif  // MVLM_X86

#ifdef MVLM_ARM
// ---- ARM64: rows16_arm_body.h twice (SDOT by element at level 2 and up, SMLAL at level 1) ---------

// Byte k (0..3) of every int32 lane, as int32 lanes (unsigned). `k` is a constant after inlining.
MVLM_INLINE uint32x4_t mvlm_byte_lane(uint32x4_t v, int k) {
    switch (k) {
    case 0: return vandq_u32(v, vdupq_n_u32(0xFF));
    case 1: return vandq_u32(vshrq_n_u32(v, 8), vdupq_n_u32(0xFF));
    case 2: return vandq_u32(vshrq_n_u32(v, 16), vdupq_n_u32(0xFF));
    default: return vshrq_n_u32(v, 24);
    }
}

// The same with bytes 1 and 2 moved by TBL (one instruction each instead of a shift and an AND):
// `b1` / `b2` index byte 1 / 2 of each dword into its byte 0, the other bytes out of range (0).
MVLM_INLINE uint32x4_t mvlm_byte_lane_tbl(uint32x4_t v, int k, uint8x16_t b1, uint8x16_t b2) {
    switch (k) {
    case 0: return vandq_u32(v, vdupq_n_u32(0xFF));
    case 1: return vreinterpretq_u32_u8(vqtbl1q_u8(vreinterpretq_u8_u32(v), b1));
    case 2: return vreinterpretq_u32_u8(vqtbl1q_u8(vreinterpretq_u8_u32(v), b2));
    default: return vshrq_n_u32(v, 24);
    }
}

#define ARM_DOT 1
#include "rows16_arm_body.h"
#undef ARM_DOT
#define ARM_DOT 0
#include "rows16_arm_body.h"
#undef ARM_DOT
#endif

void mvlm_matvec_q8_rows16(int type, const void *w, int64_t first_group, int64_t last_group, const void *xq,
                           const float *xd, const int32_t *xsum16, int64_t n, float *y) {
    const uint8_t *base = (const uint8_t *)w, *x = (const uint8_t *)xq;
    int64_t records = records_per_row(type, n), group_bytes = records * mvlm_rows16_record_bytes(type);
#ifdef MVLM_X86
    int level = mvlm_kernels_level();
#endif
#ifdef MVLM_ARM
    // Level 3 (i8mm) runs the dot-product code: SMMLA's 2x8 by 8x2 products do not fit a matrix x
    // vector product.
    int level = mvlm_kernels_level();
    if (level >= 2) {
        groups_dotprod(type, base, first_group, last_group, records, group_bytes, x, xd, xsum16, y);
        return;
    }
    if (level == 1) {
        groups_neon(type, base, first_group, last_group, records, group_bytes, x, xd, xsum16, y);
        return;
    }
#endif
    for (int64_t g = first_group; g < last_group; g++) {
        const uint8_t *rec = base + (size_t)g * (size_t)group_bytes;
        float *out = y + g * 16;
#ifdef MVLM_X86
        if (level >= 2) {
            switch (type) {
            case T_Q4_0: group_q4_0_avx512(rec, records, x, xd, xsum16, out); break;
            case T_Q8_0: group_q8_0_avx512(rec, records, x, xd, xsum16, out); break;
            case T_Q4_K: group_q4_K_avx512(rec, records, x, xd, xsum16, out); break;
            default: group_q6_K_avx512(rec, records, x, xd, xsum16, out); break;
            }
            continue;
        }
        if (level == 1) {
            groups_avx2(type, base, g, last_group, records, group_bytes, x, xd, xsum16, y);
            return;
        }
#endif
        row16_portable(type, rec, records, x, xd, xsum16, out);
    }
}
