// Quantized matrix x matrix (prefill): Q4_0, Q8_0, Q4_K and Q6_K weights read from their stored
// blocks, against activations quantized to 8 bits per block of 32 (Q8_0 arithmetic) once per call.
//
// Design ("rows in lanes", as llama.cpp's repacked 8x8 kernels, but repacked per tile instead of
// at load): a thread takes R weight rows (16 with AVX-512, 8 with AVX2) and a chunk of 16 blocks,
// and decodes them once into a small panel where one vector holds the same 4 inputs of all R rows
// (u8, 4 bytes per int32 lane), plus one f32 scale (and Q4_K min) per row and sub-block. Every tile
// of 8 tokens then runs over that panel: per 4 inputs, one broadcast of each token's 4 int8
// activations and one VPDPBUSD (AVX-512 VNNI) or VPMADDUBSW+VPMADDWD (AVX2) per token, so each
// int32 lane is one output's partial dot product and no horizontal sums are needed. Per
// sub-block and token, one convert and one FMA apply (row scale) x (token scale).
//
// Unsigned weights need an offset: Q4_0 stores q + 8 (nibbles), Q6_K q + 32; with VNNI, Q8_0 is
// stored as q + 128. The offset times the activations' sum is subtracted exactly in int32 (the
// accumulator starts at -offset · Σx), so these dot products are exact integers; only the
// f32 scaling and summation round. Q4_K's min term (dmin · m · Σx) is applied in f32, as in the
// decode kernels.
//
// On arm64 (gemm_q8_arm.h) a thread takes 16 rows and the same chunks; each micro-tile is 8 rows x
// 4 tokens: per pair of 4-input groups 16 SDOTs by element (dotprod; NEON emulates each with SMULL,
// SMULL2, ADDP, SADALP), or 8 SMMLAs (i8mm) on a panel whose rows are zipped into SMMLA's 2 x 8-byte
// operand once per panel. Signed dot products need no weight offset beyond Q4_0's 8 and Q6_K's 32
// (subtracted as on x86); Q8_0 stays signed. The f32 epilogue is the portable kernel's, so every
// ARM level gives level 0's floats bit for bit.
//
// Activations are quantized exactly as mvlm_quantize_q8_0 (and the Q8_0 reference quantizer):
// d = max|x| / 127 rounded to f16, q = round-half-away(x / d), so the result equals the dot
// product of the dequantized weights with the Q8_0-dequantized activations up to f32 rounding.

#include "internal.h"
#include "mvlm_kernels.h"

// Packed activations: tiles of 8 tokens; per tile and 32-input block, XB_BYTES bytes:
//   q[8 groups][8 tokens][4] int8 (group g = inputs 4g..4g+3 of the block; on arm64 the same
//                bytes in SMMLA's order, see xq_offset)
//   d[8]         f32  each token's block scale (the f16 value as f32)
//   dsum[8]      f32  d · Σq (Q4_K's min term)
//   nsum[8]      i32  -Σq over the block
//   nsum16[2][8] i32  -Σq over inputs 0-15 and 16-31
enum { QT = 8, XB_D = 256, XB_DSUM = 288, XB_NSUM = 320, XB_NSUM16 = 352, XB_BYTES = 416 };
enum { T_Q4_0 = 0, T_Q8_0 = 1, T_Q4_K = 2, T_Q6_K = 3 };
// The toolkit's own types (matvec_own.c decodes their blocks; row-major only): INT8_PC is signed
// like Q8_0, AFFINE4 (G32/G64/G128) unsigned nibbles with a min term like Q4_K's.
enum { T_INT8_PC = MVLM_Q8_INT8_PC, T_A4_G32 = MVLM_Q8_AFFINE4_G32, T_A4_G64 = MVLM_Q8_AFFINE4_G64, T_A4_G128 = MVLM_Q8_AFFINE4_G128 };
#define T_SIGNED(type) ((type) == T_Q8_0 || (type) == T_INT8_PC)
#define T_HAS_MIN(type) ((type) == T_Q4_K || (type) >= T_A4_G32)
enum { CHUNK_BLOCKS = 16 };  // 32-input blocks decoded per panel (512 inputs)

// Where token t's 4 activations of group g sit in a block's q field. x86: [8 groups][8 tokens][4].
// ARM: pairs of groups and pairs of tokens, [4 group pairs][4 token pairs][2 tokens][8 bytes]: 16
// bytes hold inputs 8p..8p+7 of tokens 2u and 2u+1, the operand SMMLA takes (two tokens x 8
// bytes), and SDOT's by-element form reads the 4 bytes of (token, group) as one of 4 lanes.
#ifdef MVLM_ARM
static inline int xq_offset(int g, int t) { return (g >> 1) * 64 + (t >> 1) * 16 + (t & 1) * 8 + (g & 1) * 4; }
#else
static inline int xq_offset(int g, int t) { return g * 32 + t * 4; }
#endif

int64_t mvlm_gemm_q8_packed_bytes(int64_t tokens, int64_t k) { return (tokens + QT - 1) / QT * (k / 32) * XB_BYTES; }

// ---- activations ------------------------------------------------------------------------------

static void pack_block_portable(const float *x, int64_t tokens, int64_t k, int64_t tile, int64_t b, uint8_t *o) {
    for (int i = 0; i < QT; i++) {
        int64_t t = tile * QT + i;
        int8_t q[32];
        float d = 0;
        if (t < tokens) {
            // Exactly as mvlm_quantize_q8_0; the scale as the f16 it is stored as there.
            d = mvlm_half_to_float(mvlm_float_to_half(mvlm_q8_block(x + t * k + b * 32, q)));
        } else {
            memset(q, 0, 32);
        }
        int32_t lo = 0, hi = 0;
        for (int j = 0; j < 16; j++) {
            lo += q[j];
            hi += q[16 + j];
        }
        for (int g = 0; g < 8; g++) memcpy(o + xq_offset(g, i), q + 4 * g, 4);
        float dsum = d * (float)(lo + hi);
        int32_t nsum = -(lo + hi), nlo = -lo, nhi = -hi;
        memcpy(o + XB_D + 4 * i, &d, 4);
        memcpy(o + XB_DSUM + 4 * i, &dsum, 4);
        memcpy(o + XB_NSUM + 4 * i, &nsum, 4);
        memcpy(o + XB_NSUM16 + 4 * i, &nlo, 4);
        memcpy(o + XB_NSUM16 + 32 + 4 * i, &nhi, 4);
    }
}

#ifdef MVLM_X86
MVLM_AVX2 MVLM_INLINE void transpose8_epi32(__m256i r[8]) {
    __m256 v[8];
    for (int i = 0; i < 8; i++) v[i] = _mm256_castsi256_ps(r[i]);
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_castps_si256(_mm256_permute2f128_ps(s0, s4, 0x20));
    r[1] = _mm256_castps_si256(_mm256_permute2f128_ps(s1, s5, 0x20));
    r[2] = _mm256_castps_si256(_mm256_permute2f128_ps(s2, s6, 0x20));
    r[3] = _mm256_castps_si256(_mm256_permute2f128_ps(s3, s7, 0x20));
    r[4] = _mm256_castps_si256(_mm256_permute2f128_ps(s0, s4, 0x31));
    r[5] = _mm256_castps_si256(_mm256_permute2f128_ps(s1, s5, 0x31));
    r[6] = _mm256_castps_si256(_mm256_permute2f128_ps(s2, s6, 0x31));
    r[7] = _mm256_castps_si256(_mm256_permute2f128_ps(s3, s7, 0x31));
}

MVLM_AVX2 static void pack_block_avx2(const float *x, int64_t tokens, int64_t k, int64_t tile, int64_t b, uint8_t *o) {
    __m256i rows[8];
    float ds[8] __attribute__((aligned(32)));
    for (int i = 0; i < QT; i++) {
        int64_t t = tile * QT + i;
        if (t >= tokens) {
            rows[i] = _mm256_setzero_si256();
            ds[i] = 0;
            continue;
        }
        float d;
        rows[i] = mvlm_q8_block8(x + t * k + b * 32, &d);  // exactly as mvlm_quantize_q8_0
        ds[i] = mvlm_half_to_float(mvlm_float_to_half(d));
    }
    transpose8_epi32(rows);  // rows[g] = group g of all 8 tokens
    for (int g = 0; g < 8; g++) _mm256_storeu_si256((__m256i *)(o + g * 32), rows[g]);
    // Sums of each token's int8 values per half: u8 ones x s8 values, then pairs of int16.
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    __m256i lo = _mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(ones8, rows[0]), _mm256_maddubs_epi16(ones8, rows[1])),
                                  _mm256_add_epi16(_mm256_maddubs_epi16(ones8, rows[2]), _mm256_maddubs_epi16(ones8, rows[3])));
    __m256i hi = _mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(ones8, rows[4]), _mm256_maddubs_epi16(ones8, rows[5])),
                                  _mm256_add_epi16(_mm256_maddubs_epi16(ones8, rows[6]), _mm256_maddubs_epi16(ones8, rows[7])));
    __m256i slo = _mm256_madd_epi16(lo, ones16), shi = _mm256_madd_epi16(hi, ones16);
    __m256i sum = _mm256_add_epi32(slo, shi);
    __m256 d = _mm256_load_ps(ds);
    _mm256_storeu_ps((float *)(o + XB_D), d);
    _mm256_storeu_ps((float *)(o + XB_DSUM), _mm256_mul_ps(d, _mm256_cvtepi32_ps(sum)));
    __m256i zero = _mm256_setzero_si256();
    _mm256_storeu_si256((__m256i *)(o + XB_NSUM), _mm256_sub_epi32(zero, sum));
    _mm256_storeu_si256((__m256i *)(o + XB_NSUM16), _mm256_sub_epi32(zero, slo));
    _mm256_storeu_si256((__m256i *)(o + XB_NSUM16 + 32), _mm256_sub_epi32(zero, shi));
}
#endif

#ifdef MVLM_ARM
// pack_block_portable in NEON (mvlm_pf_q8_block repeats mvlm_q8_block's float operations): token
// pairs' 8-byte chunks zipped into the ARM layout (xq_offset).
static void pack_block_neon(const float *x, int64_t tokens, int64_t k, int64_t tile, int64_t b, uint8_t *o) {
    int8x16_t lo[QT], hi[QT];
    float d[QT];
    int32_t slo[QT], shi[QT];
    for (int i = 0; i < QT; i++) {
        int64_t t = tile * QT + i;
        if (t < tokens) {
            d[i] = mvlm_half_to_float(mvlm_float_to_half(mvlm_pf_q8_block(x + t * k + b * 32, &lo[i], &hi[i])));
        } else {
            lo[i] = hi[i] = vdupq_n_s8(0);
            d[i] = 0;
        }
        slo[i] = vaddlvq_s8(lo[i]);
        shi[i] = vaddlvq_s8(hi[i]);
    }
    for (int u = 0; u < QT / 2; u++) {
        int64x2_t a0 = vreinterpretq_s64_s8(lo[2 * u]), b0 = vreinterpretq_s64_s8(lo[2 * u + 1]);
        int64x2_t a1 = vreinterpretq_s64_s8(hi[2 * u]), b1 = vreinterpretq_s64_s8(hi[2 * u + 1]);
        vst1q_s64((int64_t *)(o + 0 * 64 + u * 16), vzip1q_s64(a0, b0));
        vst1q_s64((int64_t *)(o + 1 * 64 + u * 16), vzip2q_s64(a0, b0));
        vst1q_s64((int64_t *)(o + 2 * 64 + u * 16), vzip1q_s64(a1, b1));
        vst1q_s64((int64_t *)(o + 3 * 64 + u * 16), vzip2q_s64(a1, b1));
    }
    for (int h = 0; h < 2; h++) {
        int32x4_t l = vld1q_s32(slo + 4 * h), u = vld1q_s32(shi + 4 * h), s = vaddq_s32(l, u);
        float32x4_t dv = vld1q_f32(d + 4 * h);
        vst1q_f32((float *)(o + XB_D) + 4 * h, dv);
        vst1q_f32((float *)(o + XB_DSUM) + 4 * h, vmulq_f32(dv, vcvtq_f32_s32(s)));
        vst1q_s32((int32_t *)(o + XB_NSUM) + 4 * h, vnegq_s32(s));
        vst1q_s32((int32_t *)(o + XB_NSUM16) + 4 * h, vnegq_s32(l));
        vst1q_s32((int32_t *)(o + XB_NSUM16 + 32) + 4 * h, vnegq_s32(u));
    }
}
#endif

void mvlm_gemm_q8_pack(const float *x, int64_t tokens, int64_t k, int64_t first_tile, int64_t last_tile, void *xp) {
    int64_t blocks = k / 32;
    uint8_t *out = (uint8_t *)xp;
#if defined(MVLM_X86) || defined(MVLM_ARM)
    int vector = mvlm_kernels_level() >= 1;
#endif
    for (int64_t tile = first_tile; tile < last_tile; tile++) {
        for (int64_t b = 0; b < blocks; b++) {
            uint8_t *o = out + (tile * blocks + b) * XB_BYTES;
#ifdef MVLM_X86
            if (vector) {
                pack_block_avx2(x, tokens, k, tile, b, o);
                continue;
            }
#endif
#ifdef MVLM_ARM
            if (vector) {
                pack_block_neon(x, tokens, k, tile, b, o);
                continue;
            }
#endif
            pack_block_portable(x, tokens, k, tile, b, o);
        }
    }
}

// ---- weight panels ----------------------------------------------------------------------------

// Sub-blocks (inputs sharing one weight scale) per 32-input block, and groups of 4 per sub-block.
static inline int subblocks(int type) { return type == T_Q6_K ? 2 : 1; }

// Bytes of one sub-block in a panel of `lanes` rows: q[groups][lanes][4], scale[lanes], min[lanes].
static inline int sub_bytes(int type, int lanes) { return (8 / subblocks(type)) * lanes * 4 + 2 * lanes * 4; }

// One row's GGUF block bytes (a block, or a super-block for the K types) from a rows16 record
// (matvec_rows16.c): lane `r` of every field, f16 fields 2 bytes per row, byte fields in dwords.
static void rows16_row_block(int type, const uint8_t *rec, int r, uint8_t *out) {
    static const int16_t fields[4][5] = {
        {2, 16, -1},           // Q4_0: d, qs
        {2, 32, -1},           // Q8_0: d, qs
        {2, 2, 12, 128, -1},   // Q4_K: d, dmin, scales, qs
        {128, 64, 16, 2, -1},  // Q6_K: ql, qh, scales, d
    };
    const int16_t *f = fields[type];
    size_t in = 0, at = 0;
    for (int i = 0; f[i] > 0; i++) {
        int size = f[i];
        if (size == 2) {
            memcpy(out + at, rec + in + 2 * (size_t)r, 2);
        } else {
            for (int c = 0; c < size / 4; c++) memcpy(out + at + 4 * c, rec + in + ((size_t)c * 16 + r) * 4, 4);
        }
        in += (size_t)size * 16;
        at += (size_t)size;
    }
}

// Decodes rows [n0, n0 + rows) (zeros up to `lanes`) of blocks [b0, b0 + nb) into `panel`.
// `offset128` stores Q8_0 as q + 128 (unsigned, for VNNI); otherwise Q8_0 stays signed.
// `rows16`: the weights are in the rows16 layout (groups of 16 rows interleaved, `row_bytes` per
// row as in the row-major layout).
MVLM_INLINE void decode_panel(int type, const uint8_t *w, size_t row_bytes, int64_t n0, int rows, int lanes, int64_t b0,
                              int nb, int offset128, int rows16, uint8_t *panel) {
    int sub = subblocks(type), groups = 8 / sub, sb = sub_bytes(type, lanes);
    static const int block_bytes[4] = {18, 34, 144, 210};
    size_t record = type < T_INT8_PC ? (size_t)block_bytes[type] * 16 : 0;
    uint8_t scratch[210];
    for (int bi = 0; bi < nb; bi++) {
        int64_t b = b0 + bi;
        for (int r = 0; r < lanes; r++) {
            uint8_t *p = panel + (size_t)bi * sub * sb;  // sub-block 0 of this block
            uint32_t q[8];
            float scale[2] = {0, 0}, min = 0;
            if (r >= rows) {
                memset(q, 0, sizeof q);
            } else if (type >= T_INT8_PC) {
                mvlm_own_decode_block(type, w + (size_t)(n0 + r) * row_bytes, b, offset128, q, &scale[0], &min);
            } else {
                int64_t unit = type == T_Q4_K || type == T_Q6_K ? b / 8 : b;  // block or super-block
                const uint8_t *blk;
                if (rows16) {
                    int64_t n = n0 + r;
                    rows16_row_block(type, w + (size_t)(n / 16) * 16 * row_bytes + (size_t)unit * record, (int)(n % 16), scratch);
                    blk = scratch;
                } else {
                    blk = w + (size_t)(n0 + r) * row_bytes + (size_t)unit * (size_t)block_bytes[type];
                }
                switch (type) {
                case T_Q4_0: {
                    scale[0] = mvlm_half_to_float(mvlm_load16(blk));
                    for (int g = 0; g < 4; g++) {
                        uint32_t dw = mvlm_load32(blk + 2 + 4 * g);
                        q[g] = dw & 0x0F0F0F0F;
                        q[g + 4] = (dw >> 4) & 0x0F0F0F0F;
                    }
                    break;
                }
                case T_Q8_0: {
                    scale[0] = mvlm_half_to_float(mvlm_load16(blk));
                    for (int g = 0; g < 8; g++) q[g] = mvlm_load32(blk + 2 + 4 * g) ^ (offset128 ? 0x80808080u : 0);
                    break;
                }
                case T_Q4_K: {
                    int j = (int)(b % 8), sc, m;
                    mvlm_scale_min_k4(blk + 4, j, &sc, &m);
                    scale[0] = mvlm_half_to_float(mvlm_load16(blk)) * (float)sc;
                    min = mvlm_half_to_float(mvlm_load16(blk + 2)) * (float)m;
                    const uint8_t *qs = blk + 16 + (j / 2) * 32;
                    for (int g = 0; g < 8; g++) {
                        uint32_t dw = mvlm_load32(qs + 4 * g);
                        q[g] = (j & 1) ? (dw >> 4) & 0x0F0F0F0F : dw & 0x0F0F0F0F;
                    }
                    break;
                }
                default: {  // Q6_K: block kb of the super-block, half n = kb / 4, quarter g4 = kb % 4
                    int kb = (int)(b % 8), n = kb / 4, g4 = kb % 4;
                    float d = mvlm_half_to_float(mvlm_load16(blk + 208));
                    scale[0] = d * (float)(int8_t)blk[192 + 2 * kb];
                    scale[1] = d * (float)(int8_t)blk[192 + 2 * kb + 1];
                    for (int g = 0; g < 8; g++) {
                        uint32_t lo = mvlm_load32(blk + 64 * n + 32 * (g4 & 1) + 4 * g);
                        lo = g4 < 2 ? lo & 0x0F0F0F0F : (lo >> 4) & 0x0F0F0F0F;
                        uint32_t hi = (mvlm_load32(blk + 128 + 32 * n + 4 * g) >> (2 * g4)) & 0x03030303;
                        q[g] = lo | (hi << 4);
                    }
                    break;
                }
                }
            }
            for (int h = 0; h < sub; h++) {
                uint8_t *ps = p + h * sb;
                for (int g = 0; g < groups; g++) mvlm_store32(ps + (g * lanes + r) * 4, q[h * groups + g]);
                float *f = (float *)(ps + groups * lanes * 4);
                f[r] = scale[h];
                f[lanes + r] = min;
            }
        }
    }
}

// Accumulator start per token: offset · (-Σx) over the sub-block, as a shift (-1: none).
static inline int offset_shift(int type, int offset128) {
    switch (type) {
    case T_Q4_0: return 3;
    case T_Q8_0: case T_INT8_PC: return offset128 ? 7 : -1;
    case T_Q6_K: return 5;
    default: return -1;
    }
}

// ---- portable ---------------------------------------------------------------------------------

enum { P_LANES = 8 };

MVLM_INLINE void gemm_q8_portable_typed(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                        const uint8_t *xp, int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy,
                                        int rows16) {
    int64_t blocks = k / 32;
    int sub = subblocks(type), groups = 8 / sub, sb = sub_bytes(type, P_LANES), shift = offset_shift(type, 0);
    int is_signed = T_SIGNED(type);
    uint8_t panel[CHUNK_BLOCKS * 2 * (8 * P_LANES * 4 + 2 * P_LANES * 4)];
    for (int64_t n0 = first; n0 < last; n0 += P_LANES) {
        int rows = (int)(last - n0 < P_LANES ? last - n0 : P_LANES);
        for (int64_t b0 = 0; b0 < blocks || b0 == 0; b0 += CHUNK_BLOCKS) {
            int nb = (int)(blocks - b0 < CHUNK_BLOCKS ? blocks - b0 : CHUNK_BLOCKS);
            decode_panel(type, w, row_bytes, n0, rows, P_LANES, b0, nb, 0, rows16, panel);
            for (int64_t t0 = 0; t0 < tokens; t0 += QT) {
                int mr = (int)(tokens - t0 < QT ? tokens - t0 : QT);
                const uint8_t *xt = xp + ((t0 / QT) * blocks + b0) * XB_BYTES;
                for (int i = 0; i < mr; i++) {
                    for (int r = 0; r < rows; r++) {
                        float acc = b0 == 0 ? (bias ? bias[n0 + r] : 0.0f) : y[(t0 + i) * ldy + n0 + r];
                        for (int bi = 0; bi < nb; bi++) {
                            const uint8_t *xb = xt + bi * XB_BYTES;
                            float d, dsum;
                            memcpy(&d, xb + XB_D + 4 * i, 4);
                            memcpy(&dsum, xb + XB_DSUM + 4 * i, 4);
                            for (int h = 0; h < sub; h++) {
                                const uint8_t *ps = panel + (bi * sub + h) * sb;
                                int32_t nsum;
                                memcpy(&nsum, xb + (sub == 1 ? XB_NSUM + 4 * i : XB_NSUM16 + 32 * h + 4 * i), 4);
                                int32_t dot = shift >= 0 ? nsum * (1 << shift) : 0;
                                for (int g = 0; g < groups; g++) {
                                    const uint8_t *wq = ps + (g * P_LANES + r) * 4;
                                    const int8_t *xq = (const int8_t *)(xb + xq_offset(h * groups + g, i));
                                    for (int j = 0; j < 4; j++) dot += (is_signed ? (int32_t)(int8_t)wq[j] : (int32_t)wq[j]) * xq[j];
                                }
                                const float *f = (const float *)(ps + groups * P_LANES * 4);
                                acc = fmaf((float)dot, f[r] * d, acc);
                                acc = fmaf(-f[P_LANES + r], dsum, acc);
                            }
                        }
                        y[(t0 + i) * ldy + n0 + r] = acc;
                    }
                }
            }
            if (blocks == 0) break;
        }
    }
}

static void gemm_q8_portable(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last, const uint8_t *xp,
                             int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy, int rows16) {
    switch (type) {
    case T_Q4_0: gemm_q8_portable_typed(T_Q4_0, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_Q8_0: gemm_q8_portable_typed(T_Q8_0, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_Q4_K: gemm_q8_portable_typed(T_Q4_K, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_INT8_PC: gemm_q8_portable_typed(T_INT8_PC, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G32: gemm_q8_portable_typed(T_A4_G32, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G64: gemm_q8_portable_typed(T_A4_G64, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G128: gemm_q8_portable_typed(T_A4_G128, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    default: gemm_q8_portable_typed(T_Q6_K, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    }
}

#ifdef MVLM_X86

// ---- AVX2: 8 rows x 4 tokens -------------------------------------------------------------------

enum { A_LANES = 8 };

MVLM_AVX2 MVLM_INLINE void qtile_avx2(int type, int lane0, const uint8_t *panel, int nb, const uint8_t *xt, __m256 fa[4]) {
    int sub = subblocks(type), groups = 8 / sub, sb = sub_bytes(type, A_LANES), shift = offset_shift(type, 0);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int bi = 0; bi < nb; bi++) {
        const uint8_t *xb = xt + bi * XB_BYTES;
        for (int h = 0; h < sub; h++) {
            const uint8_t *ps = panel + (bi * sub + h) * sb;
            __m256i acc[4];
            for (int i = 0; i < 4; i++) {
                const int32_t *ns = (const int32_t *)(xb + (sub == 1 ? XB_NSUM : XB_NSUM16 + 32 * h)) + lane0 + i;
                acc[i] = shift >= 0 ? _mm256_slli_epi32(_mm256_set1_epi32(*ns), shift) : _mm256_setzero_si256();
            }
            __m256i part[4];
            for (int g = 0; g < groups; g++) {
                __m256i wv = _mm256_load_si256((const __m256i *)(ps + g * A_LANES * 4));
                const int32_t *xg = (const int32_t *)(xb + (h * groups + g) * 32) + lane0;
                if (T_SIGNED(type)) {  // signed weights: |w| times x with w's sign
                    __m256i aw = _mm256_sign_epi8(wv, wv);
                    for (int i = 0; i < 4; i++) {
                        __m256i xv = _mm256_sign_epi8(_mm256_set1_epi32(xg[i]), wv);
                        acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, xv), ones));
                    }
                } else {
                    // Unsigned weights: VPMADDUBSW results summed as int16 over a run of groups and
                    // widened once (2·15·127 = 3810 per product pair for nibbles, 8 groups: 30480;
                    // 2·63·127 = 16002 for Q6_K's 6 bits, 2 groups: 32004; both < 32767).
                    int run = type == T_Q6_K ? 2 : 8;
                    if (g % run == 0)
                        for (int i = 0; i < 4; i++) part[i] = _mm256_setzero_si256();
                    for (int i = 0; i < 4; i++)
                        part[i] = _mm256_add_epi16(part[i], _mm256_maddubs_epi16(wv, _mm256_set1_epi32(xg[i])));
                    if (g % run == run - 1 || g == groups - 1)
                        for (int i = 0; i < 4; i++) acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(part[i], ones));
                }
            }
            const float *f = (const float *)(ps + groups * A_LANES * 4);
            __m256 sv = _mm256_load_ps(f);
            const float *d = (const float *)(xb + XB_D) + lane0;
            for (int i = 0; i < 4; i++)
                fa[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[i]), _mm256_mul_ps(sv, _mm256_set1_ps(d[i])), fa[i]);
            if (T_HAS_MIN(type)) {
                __m256 mv = _mm256_load_ps(f + A_LANES);
                const float *ds = (const float *)(xb + XB_DSUM) + lane0;
                for (int i = 0; i < 4; i++) fa[i] = _mm256_fnmadd_ps(mv, _mm256_set1_ps(ds[i]), fa[i]);
            }
        }
    }
}

MVLM_AVX2 MVLM_INLINE void gemm_q8_avx2_typed(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                         const uint8_t *xp, int64_t tokens, int64_t k, const float *bias, float *y,
                                         int64_t ldy, int rows16) {
    int64_t blocks = k / 32;
    uint8_t panel[CHUNK_BLOCKS * 2 * (8 * A_LANES * 4 + 2 * A_LANES * 4)] __attribute__((aligned(64)));
    for (int64_t n0 = first; n0 < last; n0 += A_LANES) {
        int rows = (int)(last - n0 < A_LANES ? last - n0 : A_LANES);
        for (int64_t b0 = 0; b0 < blocks || b0 == 0; b0 += CHUNK_BLOCKS) {
            int nb = (int)(blocks - b0 < CHUNK_BLOCKS ? blocks - b0 : CHUNK_BLOCKS);
            decode_panel(type, w, row_bytes, n0, rows, A_LANES, b0, nb, 0, rows16, panel);
            for (int64_t t0 = 0; t0 < tokens; t0 += 4) {
                int mr = (int)(tokens - t0 < 4 ? tokens - t0 : 4);
                const uint8_t *xt = xp + ((t0 / QT) * blocks + b0) * XB_BYTES;
                float tile[4][A_LANES] __attribute__((aligned(32)));
                for (int i = 0; i < 4; i++)
                    for (int r = 0; r < A_LANES; r++)
                        tile[i][r] = (i < mr && r < rows) ? (b0 == 0 ? (bias ? bias[n0 + r] : 0.0f) : y[(t0 + i) * ldy + n0 + r]) : 0.0f;
                __m256 fa[4];
                for (int i = 0; i < 4; i++) fa[i] = _mm256_load_ps(tile[i]);
                qtile_avx2(type, (int)(t0 % QT), panel, nb, xt, fa);
                for (int i = 0; i < 4; i++) _mm256_store_ps(tile[i], fa[i]);
                for (int i = 0; i < mr; i++)
                    for (int r = 0; r < rows; r++) y[(t0 + i) * ldy + n0 + r] = tile[i][r];
            }
            if (blocks == 0) break;
        }
    }
}

MVLM_AVX2 static void gemm_q8_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                   const uint8_t *xp, int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy,
                                   int rows16) {
    // One specialization per type, so the type tests leave the inner loops.
    switch (type) {
    case T_Q4_0: gemm_q8_avx2_typed(T_Q4_0, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_Q8_0: gemm_q8_avx2_typed(T_Q8_0, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_Q4_K: gemm_q8_avx2_typed(T_Q4_K, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_INT8_PC: gemm_q8_avx2_typed(T_INT8_PC, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G32: gemm_q8_avx2_typed(T_A4_G32, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G64: gemm_q8_avx2_typed(T_A4_G64, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G128: gemm_q8_avx2_typed(T_A4_G128, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    default: gemm_q8_avx2_typed(T_Q6_K, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    }
}

// ---- AVX-512 VNNI: 16 rows x 8 tokens ----------------------------------------------------------

enum { Z_LANES = 16 };

// 16 rows x 4 dwords (16 bytes per row at `offset`) -> v[g] = dword g of rows 0..15.
MVLM_AVX512 MVLM_INLINE void rows16x4(const uint8_t *const rows[16], size_t offset, __m512i v[4]) {
    __m512i z[4];
    for (int i = 0; i < 4; i++) {  // z[i] lane L = row 4L + i
        __m512i t = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(rows[i] + offset)));
        t = _mm512_inserti32x4(t, _mm_loadu_si128((const __m128i *)(rows[4 + i] + offset)), 1);
        t = _mm512_inserti32x4(t, _mm_loadu_si128((const __m128i *)(rows[8 + i] + offset)), 2);
        z[i] = _mm512_inserti32x4(t, _mm_loadu_si128((const __m128i *)(rows[12 + i] + offset)), 3);
    }
    __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    v[0] = _mm512_unpacklo_epi64(t0, t2);
    v[1] = _mm512_unpackhi_epi64(t0, t2);
    v[2] = _mm512_unpacklo_epi64(t1, t3);
    v[3] = _mm512_unpackhi_epi64(t1, t3);
}

// 16 rows x 8 dwords (32 bytes per row at `offset`) -> v[g] = dword g of rows 0..15.
MVLM_AVX512 MVLM_INLINE void rows16x8(const uint8_t *const rows[16], size_t offset, __m512i v[8]) {
    __m512i z[8];
    for (int i = 0; i < 8; i++)  // low half row i, high half row 8 + i
        z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(rows[i] + offset))),
                                  _mm256_loadu_si256((const __m256i *)(rows[8 + i] + offset)), 1);
    __m512i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) {  // rows 0-3 (h = 0) and 4-7 of each half
        u[4 * h + 0] = _mm512_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
        u[4 * h + 1] = _mm512_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
        u[4 * h + 2] = _mm512_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
        u[4 * h + 3] = _mm512_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
    }
    // u[j] lane 0/2 hold dword j of 4 rows, lanes 1/3 dword j + 4: interleave rows 0-3 with 4-7.
    const __m512i low = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), high = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    for (int j = 0; j < 4; j++) {
        v[j] = _mm512_permutex2var_epi64(u[j], low, u[4 + j]);
        v[4 + j] = _mm512_permutex2var_epi64(u[j], high, u[4 + j]);
    }
}

// The f16 at `offset` of each of the 16 rows (a 4-byte gather; `high` takes the upper half).
MVLM_AVX512 MVLM_INLINE __m512 gather_half(const uint8_t *base, __m512i index, int offset, int high) {
    __m512i v = _mm512_i32gather_epi32(_mm512_add_epi32(index, _mm512_set1_epi32(offset)), (const void *)base, 1);
    if (high) v = _mm512_srli_epi32(v, 16);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}

// decode_panel for 16 lanes with AVX-512 (Q8_0 stored as q + 128).
MVLM_AVX512 MVLM_INLINE void decode_panel_avx512(int type, const uint8_t *w, size_t row_bytes, int64_t n0, int rows,
                                                 int64_t b0, int nb, uint8_t *panel) {
    if (type >= T_INT8_PC) {  // the toolkit's own types: the generic decode (q + 128 for INT8_PC)
        decode_panel(type, w, row_bytes, n0, rows, Z_LANES, b0, nb, 1, 0, panel);
        return;
    }
    const uint8_t *row[16];
    int32_t offsets[16];
    for (int r = 0; r < 16; r++) {  // missing rows repeat the last one (their outputs are never stored)
        int source = r < rows ? r : rows - 1;
        row[r] = w + (size_t)(n0 + source) * row_bytes;
        offsets[r] = (int32_t)((size_t)source * row_bytes);
    }
    const uint8_t *base = w + (size_t)n0 * row_bytes;
    __m512i index = _mm512_loadu_si512((const void *)offsets);
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    int sb = sub_bytes(type, Z_LANES);
    switch (type) {
    case T_Q4_0:
        for (int bi = 0; bi < nb; bi++) {
            size_t at = (size_t)(b0 + bi) * 18;
            uint8_t *ps = panel + (size_t)bi * sb;
            __m512i v[4];
            rows16x4(row, at + 2, v);
            for (int g = 0; g < 4; g++) {
                _mm512_store_si512((void *)(ps + g * 64), _mm512_and_si512(v[g], nibble));
                _mm512_store_si512((void *)(ps + (g + 4) * 64), _mm512_and_si512(_mm512_srli_epi16(v[g], 4), nibble));
            }
            _mm512_store_ps((float *)(ps + 8 * 64), gather_half(base, index, (int)at, 0));
        }
        break;
    case T_Q8_0:
        for (int bi = 0; bi < nb; bi++) {
            size_t at = (size_t)(b0 + bi) * 34;
            uint8_t *ps = panel + (size_t)bi * sb;
            __m512i v[8];
            rows16x8(row, at + 2, v);
            const __m512i flip = _mm512_set1_epi8((char)0x80);
            for (int g = 0; g < 8; g++) _mm512_store_si512((void *)(ps + g * 64), _mm512_xor_si512(v[g], flip));
            _mm512_store_ps((float *)(ps + 8 * 64), gather_half(base, index, (int)at, 0));
        }
        break;
    case T_Q4_K:
        for (int bi = 0; bi < nb; bi += 8) {  // whole super-blocks (chunks start at multiples of 16 blocks)
            size_t at = (size_t)((b0 + bi) / 8) * 144;
            __m512 d = gather_half(base, index, (int)at, 0), dmin = gather_half(base, index, (int)at, 1);
            __m512i q0 = _mm512_i32gather_epi32(_mm512_add_epi32(index, _mm512_set1_epi32((int)at + 4)), (const void *)base, 1);
            __m512i q1 = _mm512_i32gather_epi32(_mm512_add_epi32(index, _mm512_set1_epi32((int)at + 8)), (const void *)base, 1);
            __m512i q2 = _mm512_i32gather_epi32(_mm512_add_epi32(index, _mm512_set1_epi32((int)at + 12)), (const void *)base, 1);
            for (int j = 0; j < 8; j++) {  // scale_min_k4, 16 rows at once
                __m512i sc, m;
                mvlm_q4k_scale_min16(q0, q1, q2, j, &sc, &m);
                float *f = (float *)(panel + (size_t)(bi + j) * sb + 8 * 64);
                _mm512_store_ps(f, _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
                _mm512_store_ps(f + 16, _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m)));
            }
            for (int p = 0; p < 4; p++) {  // sub-blocks 2p (low nibbles) and 2p + 1 (high nibbles)
                __m512i v[8];
                rows16x8(row, at + 16 + 32 * p, v);
                uint8_t *lo = panel + (size_t)(bi + 2 * p) * sb, *hi = lo + sb;
                for (int g = 0; g < 8; g++) {
                    _mm512_store_si512((void *)(lo + g * 64), _mm512_and_si512(v[g], nibble));
                    _mm512_store_si512((void *)(hi + g * 64), _mm512_and_si512(_mm512_srli_epi16(v[g], 4), nibble));
                }
            }
        }
        break;
    default:  // Q6_K: sub-blocks of 16 (two per block of 32)
        for (int bi = 0; bi < nb; bi += 8) {
            size_t at = (size_t)((b0 + bi) / 8) * 210;
            __m512 d = gather_half(base, index, (int)at + 206, 1);  // bytes 208-209, read without passing the block
            for (int quarter = 0; quarter < 4; quarter++) {  // int8 scales 4q .. 4q + 3
                __m512i sv = _mm512_i32gather_epi32(_mm512_add_epi32(index, _mm512_set1_epi32((int)at + 192 + 4 * quarter)), (const void *)base, 1);
                for (int i = 0; i < 4; i++) {
                    int sub = 4 * quarter + i;  // sub-block of 16: block sub / 2, half sub % 2
                    __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(sv, 24 - 8 * i), 24);
                    _mm512_store_ps((float *)(panel + (size_t)(bi * 2 + sub) * sb + 4 * 64), _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
                }
            }
            __m512i ql[4][8], qh[2][8];
            for (int r = 0; r < 4; r++) rows16x8(row, at + 32 * r, ql[r]);  // region 2n + h at 64n + 32h
            for (int n = 0; n < 2; n++) rows16x8(row, at + 128 + 32 * n, qh[n]);
            const __m512i three = _mm512_set1_epi8(3);
            for (int kb = 0; kb < 8; kb++) {
                int n = kb / 4, g4 = kb % 4;
                for (int g = 0; g < 8; g++) {
                    __m512i l = ql[2 * n + (g4 & 1)][g];
                    l = g4 < 2 ? _mm512_and_si512(l, nibble) : _mm512_and_si512(_mm512_srli_epi16(l, 4), nibble);
                    __m512i h = _mm512_and_si512(_mm512_srli_epi16(qh[n][g], 2 * g4), three);
                    __m512i q = _mm512_or_si512(l, _mm512_slli_epi16(h, 4));
                    _mm512_store_si512((void *)(panel + (size_t)((bi + kb) * 2 + g / 4) * sb + (g % 4) * 64), q);
                }
            }
        }
        break;
    }
}

// decode_panel_avx512 for weights in the rows16 layout: `g` points at the group of 16 rows, whose
// records already hold dword c of all 16 rows in one 64-byte line, so the transposes are loads.
MVLM_AVX512 MVLM_INLINE void decode_panel_avx512_rows16(int type, const uint8_t *g, int64_t b0, int nb, uint8_t *panel) {
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    int sb = sub_bytes(type, Z_LANES);
#define RL(p) _mm512_loadu_si512((const void *)(p))
#define RH(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
    switch (type) {
    case T_Q4_0:
        for (int bi = 0; bi < nb; bi++) {
            const uint8_t *rec = g + (size_t)(b0 + bi) * 288;
            uint8_t *ps = panel + (size_t)bi * sb;
            for (int c = 0; c < 4; c++) {
                __m512i v = RL(rec + 32 + 64 * c);
                _mm512_store_si512((void *)(ps + c * 64), _mm512_and_si512(v, nibble));
                _mm512_store_si512((void *)(ps + (c + 4) * 64), _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble));
            }
            _mm512_store_ps((float *)(ps + 8 * 64), RH(rec));
        }
        break;
    case T_Q8_0:
        for (int bi = 0; bi < nb; bi++) {
            const uint8_t *rec = g + (size_t)(b0 + bi) * 544;
            uint8_t *ps = panel + (size_t)bi * sb;
            const __m512i flip = _mm512_set1_epi8((char)0x80);
            for (int c = 0; c < 8; c++) _mm512_store_si512((void *)(ps + c * 64), _mm512_xor_si512(RL(rec + 32 + 64 * c), flip));
            _mm512_store_ps((float *)(ps + 8 * 64), RH(rec));
        }
        break;
    case T_Q4_K:
        for (int bi = 0; bi < nb; bi += 8) {
            const uint8_t *rec = g + (size_t)((b0 + bi) / 8) * 2304;
            __m512 d = RH(rec), dmin = RH(rec + 32);
            __m512i q0 = RL(rec + 64), q1 = RL(rec + 128), q2 = RL(rec + 192);
            for (int j = 0; j < 8; j++) {
                __m512i sc, m;
                mvlm_q4k_scale_min16(q0, q1, q2, j, &sc, &m);
                float *f = (float *)(panel + (size_t)(bi + j) * sb + 8 * 64);
                _mm512_store_ps(f, _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
                _mm512_store_ps(f + 16, _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m)));
            }
            for (int p = 0; p < 4; p++) {
                uint8_t *lo = panel + (size_t)(bi + 2 * p) * sb, *hi = lo + sb;
                for (int c = 0; c < 8; c++) {
                    __m512i v = RL(rec + 256 + 64 * (8 * p + c));
                    _mm512_store_si512((void *)(lo + c * 64), _mm512_and_si512(v, nibble));
                    _mm512_store_si512((void *)(hi + c * 64), _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble));
                }
            }
        }
        break;
    default:  // Q6_K
        for (int bi = 0; bi < nb; bi += 8) {
            const uint8_t *rec = g + (size_t)((b0 + bi) / 8) * 3360;
            __m512 d = RH(rec + 3328);
            for (int quarter = 0; quarter < 4; quarter++) {
                __m512i sv = RL(rec + 3072 + 64 * quarter);
                for (int i = 0; i < 4; i++) {
                    int sub = 4 * quarter + i;
                    __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(sv, 24 - 8 * i), 24);
                    _mm512_store_ps((float *)(panel + (size_t)(bi * 2 + sub) * sb + 4 * 64), _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
                }
            }
            const __m512i three = _mm512_set1_epi8(3);
            for (int kb = 0; kb < 8; kb++) {
                int n = kb / 4, g4 = kb % 4;
                for (int c = 0; c < 8; c++) {
                    __m512i l = RL(rec + 64 * (16 * n + 8 * (g4 & 1) + c));
                    l = g4 < 2 ? _mm512_and_si512(l, nibble) : _mm512_and_si512(_mm512_srli_epi16(l, 4), nibble);
                    __m512i h = _mm512_and_si512(_mm512_srli_epi16(RL(rec + 2048 + 64 * (8 * n + c)), 2 * g4), three);
                    __m512i q = _mm512_or_si512(l, _mm512_slli_epi16(h, 4));
                    _mm512_store_si512((void *)(panel + (size_t)((bi + kb) * 2 + c / 4) * sb + (c % 4) * 64), q);
                }
            }
        }
        break;
    }
#undef RL
#undef RH
}

MVLM_AVX512 MVLM_INLINE void qtile_avx512(int type, const uint8_t *panel, int nb, const uint8_t *xt, __m512 fa[QT]) {
    int sub = subblocks(type), groups = 8 / sub, sb = sub_bytes(type, Z_LANES), shift = offset_shift(type, 1);
    for (int bi = 0; bi < nb; bi++) {
        const uint8_t *xb = xt + bi * XB_BYTES;
        for (int h = 0; h < sub; h++) {
            const uint8_t *ps = panel + (bi * sub + h) * sb;
            __m512i acc[QT];
            const int32_t *ns = (const int32_t *)(xb + (sub == 1 ? XB_NSUM : XB_NSUM16 + 32 * h));
            for (int i = 0; i < QT; i++)
                acc[i] = shift >= 0 ? _mm512_slli_epi32(_mm512_set1_epi32(ns[i]), shift) : _mm512_setzero_si512();
            for (int g = 0; g < groups; g++) {
                __m512i wv = _mm512_load_si512((const void *)(ps + g * Z_LANES * 4));
                const int32_t *xg = (const int32_t *)(xb + (h * groups + g) * 32);
                for (int i = 0; i < QT; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], wv, _mm512_set1_epi32(xg[i]));
            }
            const float *f = (const float *)(ps + groups * Z_LANES * 4);
            __m512 sv = _mm512_load_ps(f);
            const float *d = (const float *)(xb + XB_D);
            for (int i = 0; i < QT; i++)
                fa[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i]), _mm512_mul_ps(sv, _mm512_set1_ps(d[i])), fa[i]);
            if (T_HAS_MIN(type)) {
                __m512 mv = _mm512_load_ps(f + Z_LANES);
                const float *ds = (const float *)(xb + XB_DSUM);
                for (int i = 0; i < QT; i++) fa[i] = _mm512_fnmadd_ps(mv, _mm512_set1_ps(ds[i]), fa[i]);
            }
        }
    }
}

MVLM_AVX512 MVLM_INLINE void gemm_q8_avx512_typed(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                             const uint8_t *xp, int64_t tokens, int64_t k, const float *bias, float *y,
                                             int64_t ldy, int rows16) {
    int64_t blocks = k / 32;
    uint8_t panel[CHUNK_BLOCKS * 2 * (8 * Z_LANES * 4 + 2 * Z_LANES * 4)] __attribute__((aligned(64)));
    for (int64_t n0 = first; n0 < last; n0 += Z_LANES) {
        int rows = (int)(last - n0 < Z_LANES ? last - n0 : Z_LANES);
        __mmask16 mask = (__mmask16)(rows >= 16 ? 0xFFFF : (1u << rows) - 1);
        __m512 bv = bias ? _mm512_maskz_loadu_ps(mask, bias + n0) : _mm512_setzero_ps();
        for (int64_t b0 = 0; b0 < blocks || b0 == 0; b0 += CHUNK_BLOCKS) {
            int nb = (int)(blocks - b0 < CHUNK_BLOCKS ? blocks - b0 : CHUNK_BLOCKS);
            if (rows16)
                decode_panel_avx512_rows16(type, w + (size_t)n0 * row_bytes, b0, nb, panel);
            else
                decode_panel_avx512(type, w, row_bytes, n0, rows, b0, nb, panel);
            for (int64_t t0 = 0; t0 < tokens; t0 += QT) {
                int mr = (int)(tokens - t0 < QT ? tokens - t0 : QT);
                const uint8_t *xt = xp + ((t0 / QT) * blocks + b0) * XB_BYTES;
                float *yt = y + t0 * ldy + n0;
                __m512 fa[QT];
                for (int i = 0; i < QT; i++)
                    fa[i] = b0 == 0 ? bv : (i < mr ? _mm512_maskz_loadu_ps(mask, yt + i * ldy) : _mm512_setzero_ps());
                qtile_avx512(type, panel, nb, xt, fa);
                for (int i = 0; i < mr; i++) _mm512_mask_storeu_ps(yt + i * ldy, mask, fa[i]);
            }
            if (blocks == 0) break;
        }
    }
}

MVLM_AVX512 static void gemm_q8_avx512(int type, const uint8_t *w, size_t row_bytes, int64_t first, int64_t last,
                                       const uint8_t *xp, int64_t tokens, int64_t k, const float *bias, float *y,
                                       int64_t ldy, int rows16) {
    switch (type) {
    case T_Q4_0: gemm_q8_avx512_typed(T_Q4_0, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_Q8_0: gemm_q8_avx512_typed(T_Q8_0, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_Q4_K: gemm_q8_avx512_typed(T_Q4_K, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_INT8_PC: gemm_q8_avx512_typed(T_INT8_PC, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G32: gemm_q8_avx512_typed(T_A4_G32, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G64: gemm_q8_avx512_typed(T_A4_G64, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    case T_A4_G128: gemm_q8_avx512_typed(T_A4_G128, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    default: gemm_q8_avx512_typed(T_Q6_K, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, rows16); break;
    }
}

#endif  // MVLM_X86

#ifdef MVLM_ARM

// ---- ARM: 16-row panels, 8 rows x 4 tokens per micro-tile --------------------------------------
// The panel is decode_panel's with 16 lanes: per sub-block, q[groups][16 rows][4] then the 16 row
// scales and 16 mins. For weights in the rows16 layout a panel line (one dword of 16 rows) is a
// line of the file's record, so the decode below is loads and masks. For SMMLA the panel is then
// zipped (zip_panel), once per panel and reused by every token tile.

// SDOT by element without the extension: 16 products in two SMULLs, pair sums (ADDP: within ±2 ·
// 128 · 127, no int16 overflow), then SADALP adds each row's two pairs into its int32 lane.
MVLM_INLINE int32x4_t sdot_emulated(int32x4_t acc, int8x16_t w, int8x16_t x) {
    int16x8_t lo = vmull_s8(vget_low_s8(w), vget_low_s8(x)), hi = vmull_high_s8(w, x);
    return vpadalq_s16(acc, vpaddq_s16(lo, hi));
}

// 16 f16 at p as f32 (FCVTL: every arm64 CPU).
MVLM_INLINE void halves16(const uint8_t *p, float *out) {
    for (int i = 0; i < 4; i++) vst1q_f32(out + 4 * i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)p + 4 * i))));
}

// The 64-byte line at p (dword c of 16 rows), masked / shifted, to q.
MVLM_INLINE void line_nibbles(const uint8_t *p, uint8_t *lo, uint8_t *hi) {
    const uint8x16_t nibble = vdupq_n_u8(0x0F);
    for (int i = 0; i < 4; i++) {
        uint8x16_t v = vld1q_u8(p + 16 * i);
        if (lo) vst1q_u8(lo + 16 * i, vandq_u8(v, nibble));
        if (hi) vst1q_u8(hi + 16 * i, vshrq_n_u8(v, 4));
    }
}

// decode_panel (16 lanes, Q8_0 signed) for weights in the rows16 layout: `g` points at the group of
// 16 rows (records as in Formats/mvlm.md, the AVX-512 decoder's twin).
static void decode_panel_neon_rows16(int type, const uint8_t *g, int64_t b0, int nb, uint8_t *panel) {
    int sb = sub_bytes(type, 16);
    switch (type) {
    case T_Q4_0:
        for (int bi = 0; bi < nb; bi++) {
            const uint8_t *rec = g + (size_t)(b0 + bi) * 288;
            uint8_t *ps = panel + (size_t)bi * sb;
            for (int c = 0; c < 4; c++) line_nibbles(rec + 32 + 64 * c, ps + c * 64, ps + (c + 4) * 64);
            halves16(rec, (float *)(ps + 8 * 64));
            memset(ps + 9 * 64, 0, 64);
        }
        break;
    case T_Q8_0:
        for (int bi = 0; bi < nb; bi++) {
            const uint8_t *rec = g + (size_t)(b0 + bi) * 544;
            uint8_t *ps = panel + (size_t)bi * sb;
            memcpy(ps, rec + 32, 8 * 64);
            halves16(rec, (float *)(ps + 8 * 64));
            memset(ps + 9 * 64, 0, 64);
        }
        break;
    case T_Q4_K:
        for (int bi = 0; bi < nb; bi += 8) {
            const uint8_t *rec = g + (size_t)((b0 + bi) / 8) * 2304;
            float d[16], dmin[16];
            halves16(rec, d);
            halves16(rec + 32, dmin);
            for (int q4 = 0; q4 < 4; q4++) {  // rows 4q4 .. 4q4 + 3
                uint32x4_t q0 = vld1q_u32((const uint32_t *)(rec + 64) + 4 * q4);
                uint32x4_t q1 = vld1q_u32((const uint32_t *)(rec + 128) + 4 * q4);
                uint32x4_t q2 = vld1q_u32((const uint32_t *)(rec + 192) + 4 * q4);
                float32x4_t dv = vld1q_f32(d + 4 * q4), mv = vld1q_f32(dmin + 4 * q4);
                const uint32x4_t six = vdupq_n_u32(63), four = vdupq_n_u32(15), two = vdupq_n_u32(3);
                for (int j = 0; j < 8; j++) {  // mvlm_scale_min_k4, four rows at once
                    uint32x4_t sc, m;
                    if (j < 4) {
                        int32x4_t s = vdupq_n_s32(-8 * j);
                        sc = vandq_u32(vshlq_u32(q0, s), six);
                        m = vandq_u32(vshlq_u32(q1, s), six);
                    } else {
                        int b = 8 * (j - 4);
                        sc = vorrq_u32(vandq_u32(vshlq_u32(q2, vdupq_n_s32(-b)), four),
                                       vshlq_n_u32(vandq_u32(vshlq_u32(q0, vdupq_n_s32(-(b + 6))), two), 4));
                        m = vorrq_u32(vandq_u32(vshlq_u32(q2, vdupq_n_s32(-(b + 4))), four),
                                      vshlq_n_u32(vandq_u32(vshlq_u32(q1, vdupq_n_s32(-(b + 6))), two), 4));
                    }
                    float *f = (float *)(panel + (size_t)(bi + j) * sb + 8 * 64);
                    vst1q_f32(f + 4 * q4, vmulq_f32(dv, vcvtq_f32_u32(sc)));
                    vst1q_f32(f + 16 + 4 * q4, vmulq_f32(mv, vcvtq_f32_u32(m)));
                }
            }
            for (int p = 0; p < 4; p++) {  // sub-blocks 2p (low nibbles) and 2p + 1 (high)
                uint8_t *lo = panel + (size_t)(bi + 2 * p) * sb, *hi = lo + sb;
                for (int c = 0; c < 8; c++) line_nibbles(rec + 256 + 64 * (8 * p + c), lo + c * 64, hi + c * 64);
            }
        }
        break;
    default:  // Q6_K: two sub-blocks of 16 per block
        for (int bi = 0; bi < nb; bi += 8) {
            const uint8_t *rec = g + (size_t)((b0 + bi) / 8) * 3360;
            float d[16];
            halves16(rec + 3328, d);
            for (int q4 = 0; q4 < 4; q4++) {
                float32x4_t dv = vld1q_f32(d + 4 * q4);
                for (int quarter = 0; quarter < 4; quarter++) {
                    int32x4_t sv = vld1q_s32((const int32_t *)(rec + 3072 + 64 * quarter) + 4 * q4);
                    for (int i = 0; i < 4; i++) {
                        int sub = 4 * quarter + i;
                        int32x4_t sc = vshrq_n_s32(vshlq_s32(sv, vdupq_n_s32(24 - 8 * i)), 24);
                        float *f = (float *)(panel + (size_t)(bi * 2 + sub) * sb + 4 * 64);
                        vst1q_f32(f + 4 * q4, vmulq_f32(dv, vcvtq_f32_s32(sc)));
                        vst1q_f32(f + 16 + 4 * q4, vdupq_n_f32(0));
                    }
                }
            }
            const uint8x16_t nibble = vdupq_n_u8(0x0F), three = vdupq_n_u8(3);
            for (int kb = 0; kb < 8; kb++) {
                int n = kb / 4, g4 = kb % 4;
                int8x16_t shift = vdupq_n_s8((int8_t)(-2 * g4));
                for (int c = 0; c < 8; c++) {
                    const uint8_t *lp = rec + 64 * (16 * n + 8 * (g4 & 1) + c), *hp = rec + 2048 + 64 * (8 * n + c);
                    uint8_t *out = panel + (size_t)((bi + kb) * 2 + c / 4) * sb + (c % 4) * 64;
                    for (int i = 0; i < 4; i++) {
                        uint8x16_t l = vld1q_u8(lp + 16 * i);
                        l = g4 < 2 ? vandq_u8(l, nibble) : vshrq_n_u8(l, 4);
                        uint8x16_t h = vandq_u8(vshlq_u8(vld1q_u8(hp + 16 * i), shift), three);
                        vst1q_u8(out + 16 * i, vorrq_u8(l, vshlq_n_u8(h, 4)));
                    }
                }
            }
        }
        break;
    }
}

// The panel's q fields for SMMLA, in place: per pair of groups (2p, 2p + 1) and pair of rows
// (2r, 2r + 1), 16 bytes [row 2r: 8 inputs | row 2r + 1: 8 inputs] (ZIP1 / ZIP2 of the two groups'
// dwords), at p * 128 + r * 16 of the sub-block.
static void zip_panel(int type, uint8_t *panel, int nb) {
    int sub = subblocks(type), groups = 8 / sub, sb = sub_bytes(type, 16);
    for (int s = 0; s < nb * sub; s++) {
        uint8_t *ps = panel + (size_t)s * sb;
        for (int p = 0; p < groups / 2; p++) {
            uint8_t *at = ps + p * 128;
            int32x4_t a[4], b[4];
            for (int q4 = 0; q4 < 4; q4++) {
                a[q4] = vld1q_s32((const int32_t *)(at + 16 * q4));
                b[q4] = vld1q_s32((const int32_t *)(at + 64 + 16 * q4));
            }
            for (int q4 = 0; q4 < 4; q4++) {
                vst1q_s32((int32_t *)(at + 32 * q4), vzip1q_s32(a[q4], b[q4]));
                vst1q_s32((int32_t *)(at + 32 * q4 + 16), vzip2q_s32(a[q4], b[q4]));
            }
        }
    }
}

#define TARGET MVLM_NEON
#define FN(name) name##_neon
#define KIND 0
#define LEVEL_NAME "neon"
#include "gemm_q8_arm.h"
#undef TARGET
#undef FN
#undef KIND
#undef LEVEL_NAME

#define TARGET MVLM_DOTPROD
#define FN(name) name##_dotprod
#define KIND 1
#define LEVEL_NAME "dotprod"
#include "gemm_q8_arm.h"
#undef TARGET
#undef FN
#undef KIND
#undef LEVEL_NAME

#define TARGET MVLM_I8MM
#define FN(name) name##_i8mm
#define KIND 2
#define LEVEL_NAME "i8mm"
#include "gemm_q8_arm.h"
#undef TARGET
#undef FN
#undef KIND
#undef LEVEL_NAME

#endif  // MVLM_ARM

static void gemm_q8_dispatch(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp,
                             int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy, int rows16) {
    if (first >= last || tokens <= 0) return;
    const uint8_t *wb = (const uint8_t *)w, *xb = (const uint8_t *)xp;
#ifdef MVLM_X86
    switch (mvlm_kernels_level()) {
    case 2: gemm_q8_avx512(type, wb, row_bytes, first, last, xb, tokens, k, bias, y, ldy, rows16); return;
    case 1: gemm_q8_avx2(type, wb, row_bytes, first, last, xb, tokens, k, bias, y, ldy, rows16); return;
    default: break;
    }
#endif
#ifdef MVLM_ARM
    switch (mvlm_kernels_level()) {
    case 3: gemm_i8mm(type, wb, row_bytes, first, last, xb, tokens, k, bias, y, ldy, rows16); return;
    case 2: gemm_dotprod(type, wb, row_bytes, first, last, xb, tokens, k, bias, y, ldy, rows16); return;
    case 1: gemm_neon(type, wb, row_bytes, first, last, xb, tokens, k, bias, y, ldy, rows16); return;
    default: break;
    }
#endif
    gemm_q8_portable(type, wb, row_bytes, first, last, xb, tokens, k, bias, y, ldy, rows16);
}

void mvlm_gemm_q8(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp, int64_t tokens,
                  int64_t k, const float *bias, float *y, int64_t ldy) {
    gemm_q8_dispatch(type, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, 0);
}

void mvlm_gemm_q8_rows16(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp,
                         int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy) {
    gemm_q8_dispatch(type, w, row_bytes, first, last, xp, tokens, k, bias, y, ldy, 1);
}
