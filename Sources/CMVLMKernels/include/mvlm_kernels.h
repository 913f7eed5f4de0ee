// Quantized dot-product kernels for decode (matrix x vector): the weight rows stay in their
// stored GGUF blocks, the activations are quantized to Q8_0 blocks once per token.
//
// Each kernel has a portable C version and, on x86-64, an AVX2+FMA version chosen at run time
// (mvlm_kernels_level): one binary runs on any x86-64. Rows are whole blocks of 32 weights.
#ifndef MVLM_KERNELS_H
#define MVLM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 0: portable C; 1: AVX2 + FMA (x86-64 with OS support for the YMM state).
int mvlm_kernels_level(void);

/// Forces a level (0 portable, 1 AVX2 when available) for tests and benchmarks; -1 restores the
/// detected one. Returns the level now in use.
int mvlm_kernels_set_level(int level);

/// Quantizes `n` floats (n % 32 == 0) to Q8_0 blocks of 34 bytes: d = max|x| / 127 stored as
/// f16, q = round-half-away(x / d) (llama.cpp's quantize_row_q8_0 arithmetic). When `sums` is not
/// NULL, sums[b] receives the sum of block b's 32 int8 values (Q4_K's min term needs it).
void mvlm_quantize_q8_0(const float *x, void *blocks, int32_t *sums, int64_t n);

/// y[r] = Σ over the row of w·x for rows [first, last) of a row-major matrix of Q4_0 (type 0),
/// Q8_0 (type 1), Q4_K (type 2, n % 256 == 0) or Q6_K (type 3, n % 256 == 0) blocks, `row_bytes`
/// bytes per row, against Q8_0 activations `xq` of `n` values; `xsum` holds their block sums
/// (from mvlm_quantize_q8_0) and must not be NULL for Q4_K.
void mvlm_matvec_q8(int type, const void *w, size_t row_bytes, int64_t first, int64_t last,
                    const void *xq, const int32_t *xsum, int64_t n, float *y);

#ifdef __cplusplus
}
#endif

#endif
