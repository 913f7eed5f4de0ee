// Kernels over weights read in place (never converted as a whole):
// - decode (matrix x vector): rows of stored GGUF blocks against activations quantized to Q8_0
//   blocks once per token (mvlm_matvec_q8);
// - prefill (matrix x matrix): f32/f16/bf16 weights against f32 activations (mvlm_gemm_float),
//   and Q4_0/Q8_0/Q4_K/Q6_K blocks against activations quantized to 8 bits per token
//   (mvlm_quantize_rows_q8 + mvlm_gemm_q8).
//
// Each kernel has a portable C version and, on x86-64, AVX2+FMA and AVX-512 versions chosen at
// run time (mvlm_kernels_level): one binary runs on any x86-64. Quantized rows are whole blocks
// of 32 weights.
#ifndef MVLM_KERNELS_H
#define MVLM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 0: portable C. On x86-64: 1 AVX2 + FMA + F16C (with OS support for the YMM state); 2 also
/// AVX-512 F/BW/DQ/VL with VNNI and the ZMM state (Ice Lake, Zen 4 and later). On arm64: 1 NEON
/// (ARMv8.0, every arm64 CPU); 2 also the dot-product extension (ARMv8.2 SDOT/UDOT: Cortex-A55/A76
/// and later, Snapdragon 845+, Apple A13+); 3 also int8 matrix multiply (ARMv8.6 SMMLA: Cortex-X2 /
/// A710 and later, Snapdragon 8 Gen 1+, Apple A15 / M2+). Detected from AT_HWCAP / AT_HWCAP2 on
/// Linux and Android, the hw.optional.arm.FEAT_* sysctls on Apple systems.
int mvlm_kernels_level(void);

/// The highest level this build has kernels for: 2 on x86-64, 3 on arm64, 0 elsewhere.
int mvlm_kernels_max_level(void);

/// Forces a level (0 portable up to mvlm_kernels_max_level(); never above the detected one) for
/// tests and benchmarks; -1 restores the detected one. Returns the level now in use.
int mvlm_kernels_set_level(int level);

/// Like mvlm_kernels_set_level, for kernels called on the calling thread only (it takes precedence
/// there): tests force each level without racing with other threads. -1 clears it.
int mvlm_kernels_set_thread_level(int level);

/// Quantizes `n` floats (n % 32 == 0) to Q8_0 blocks of 34 bytes: d = max|x| / 127 stored as
/// f16, q = round-half-away(x · (1 / d)) (llama.cpp's quantize_row_q8_0 arithmetic). When `sums`
/// is not NULL, sums[b] receives the sum of block b's 32 int8 values (Q4_K's min term needs it).
/// Vector code at the AVX2 and AVX-512 levels and on arm64 (NEON); every level writes the same bytes.
void mvlm_quantize_q8_0(const float *x, void *blocks, int32_t *sums, int64_t n);

/// y[r] = Σ over the row of w·x for rows [first, last) of a row-major matrix of Q4_0 (type 0),
/// Q8_0 (type 1), Q4_K (type 2, n % 256 == 0) or Q6_K (type 3, n % 256 == 0) blocks, `row_bytes`
/// bytes per row, against Q8_0 activations `xq` of `n` values; `xsum` holds their block sums
/// (from mvlm_quantize_q8_0) and must not be NULL for Q4_K. The activations' int8 values must lie
/// in -127...127, as mvlm_quantize_q8_0 writes them (arm64's NEON level sums products in int16).
void mvlm_matvec_q8(int type, const void *w, size_t row_bytes, int64_t first, int64_t last,
                    const void *xq, const int32_t *xsum, int64_t n, float *y);

/// Codes of the toolkit's own weight types for mvlm_matvec_q8 and mvlm_gemm_q8 (matvec_own.c), row-major
/// only: INT8_PC (`row_bytes` = 4 + n: the f32 row scale, then n int8), AFFINE4_G32 (byte-identical to
/// Q4_1), AFFINE4_G64 and AFFINE4_G128 (groups of 4 + G/2 bytes: f16 scale, f16 min, nibbles; `xsum` /
/// the packed block sums carry the min term, so `xsum` must not be NULL). n % 32 == 0 for all of them.
enum { MVLM_Q8_INT8_PC = 16, MVLM_Q8_AFFINE4_G32 = 17, MVLM_Q8_AFFINE4_G64 = 18, MVLM_Q8_AFFINE4_G128 = 19 };

/// IQ4_NL (iq4nl.c): mvlm_matvec_q8 with type 4 calls mvlm_matvec_iq4nl, y[r] = Σ over the row of
/// w·x for rows [first, last) of IQ4_NL blocks (18 bytes: f16 d, 16 bytes of 4-bit indices into
/// ggml's kvalues_iq4nl grid) against Q8_0 activations `xq` with their block sums `xsum` (the
/// AVX-512 level needs them; NULL runs the AVX2 code). Exact int32 dot product per block.
void mvlm_matvec_iq4nl(const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xq, const int32_t *xsum,
                       int64_t n, float *y);

/// Rewrites `blocks` IQ4_NL blocks as the Q8_0 blocks of the same values (same f16 d, q = grid[index]).
void mvlm_iq4nl_to_q8_0(const void *src, int64_t blocks, void *dst);

/// Bytes of the scratch buffer mvlm_gemm_iq4nl needs per call (16 rows of `k` inputs as Q8_0).
int64_t mvlm_gemm_iq4nl_scratch_bytes(int64_t k);

/// mvlm_gemm_q8 for a row-major IQ4_NL matrix: 16 rows at a time rewritten as Q8_0 into `scratch`
/// (mvlm_gemm_iq4nl_scratch_bytes(k) bytes, one buffer per concurrent call), then the Q8_0 kernel.
void mvlm_gemm_iq4nl(const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp, int64_t tokens, int64_t k,
                     const float *bias, float *y, int64_t ldy, void *scratch);

/// Element types of float weights for mvlm_gemm_float. MVLM_WEIGHT_F32_TRANSPOSED is f32 stored
/// input-major: the weight of output n and input j is w[j * ldw + n] (attention's values).
enum { MVLM_WEIGHT_F32 = 0, MVLM_WEIGHT_F16 = 1, MVLM_WEIGHT_BF16 = 2, MVLM_WEIGHT_F32_TRANSPOSED = 3 };

/// Decode's y[n] = Σ_j w[n * ldw + j] · x[j] for rows n in [first, last) of f32, f16 or bf16
/// weights (MVLM_WEIGHT_F32 / F16 / BF16), one token of f32 activations `x` (unpacked), widened in
/// registers; each output is a few f32 FMA chains, then a lane sum (rounding error at most about
/// k · 2^-24 · Σ_j |w x|).
void mvlm_matvec_float(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *x, int64_t k,
                       float *y);

/// Floats needed for `tokens` rows of `k` activations packed by mvlm_gemm_float_pack.
int64_t mvlm_gemm_float_packed_count(int64_t tokens, int64_t k);

/// Packs rows of f32 activations x[tokens, k] for mvlm_gemm_float: tiles of 8 tokens (the last
/// padded with zeros), each stored input-major (xp[tile * 8k + j * 8 + i] = x[tile * 8 + i, j]).
/// Writes tiles [first_tile, last_tile) so that threads can share the work.
void mvlm_gemm_float_pack(const float *x, int64_t tokens, int64_t k, int64_t first_tile, int64_t last_tile, float *xp);

/// mvlm_gemm_float_pack for rows `ldx` floats apart.
void mvlm_gemm_float_pack_strided(const float *x, int64_t ldx, int64_t tokens, int64_t k, int64_t first_tile,
                                  int64_t last_tile, float *xp);

/// y[t * ldy + n] = Σ_j x[t, j] · w[n * ldw + j] (+ bias[n]) for every token t < tokens and output
/// n in [first, last), with `w` of element type `type` (MVLM_WEIGHT_*) and the activations packed
/// by mvlm_gemm_float_pack (`xp`). `bias` may be NULL. Weights are widened to f32 one panel
/// (32 rows x 256 inputs) at a time into a buffer on the stack; each output is one f32 FMA chain
/// over j (rounding error at most about k · 2^-24 · Σ_j |w x|).
void mvlm_gemm_float(int type, const void *w, int64_t ldw, int64_t first, int64_t last, const float *xp, int64_t tokens,
                     int64_t k, const float *bias, float *y, int64_t ldy);

/// Bytes needed for `tokens` rows of `k` activations (k % 32 == 0) packed by mvlm_gemm_q8_pack.
int64_t mvlm_gemm_q8_packed_bytes(int64_t tokens, int64_t k);

/// Quantizes rows of f32 activations x[tokens, k] (k % 32 == 0) to 8 bits per block of 32, exactly
/// as mvlm_quantize_q8_0 (d = max|x| / 127 rounded to f16, q = round-half-away(x / d)), packed for
/// mvlm_gemm_q8 in tiles of 8 tokens (the last padded with zeros) with each block's scale and
/// sums. Writes tiles [first_tile, last_tile) so that threads can share the work.
void mvlm_gemm_q8_pack(const float *x, int64_t tokens, int64_t k, int64_t first_tile, int64_t last_tile, void *xp);

/// y[t * ldy + n] = Σ over the row of w·x (+ bias[n]) for tokens t < tokens and rows n in
/// [first, last) of a row-major matrix of Q4_0 (type 0), Q8_0 (1), Q4_K (2) or Q6_K (3; both
/// k % 256 == 0) blocks, `row_bytes` per row, against activations packed by mvlm_gemm_q8_pack.
/// `bias` may be NULL. The blocks are decoded a panel (16 rows x 512 inputs) at a time into a
/// buffer on the stack; integer dot products per block, f32 scaling and accumulation.
void mvlm_gemm_q8(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp, int64_t tokens,
                  int64_t k, const float *bias, float *y, int64_t ldy);

/// mvlm_gemm_q8 for weights in the rows16 layout (Formats/mvlm.md: groups of 16 rows interleaved in
/// 4-byte units; `row_bytes` is the row-major size of one row, so a group takes 16 · row_bytes).
/// `first` and `last` must be multiples of 16 (whole groups).
void mvlm_gemm_q8_rows16(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp,
                         int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy);

/// Bytes of one rows16 record (16 rows' block, or super-block for Q4_K / Q6_K) of type 0-3
/// (Q4_0 288, Q8_0 544, Q4_K 2304, Q6_K 3360); 0 for another type.
int64_t mvlm_rows16_record_bytes(int type);

/// Per-token companions of Q8_0 activations (from mvlm_quantize_q8_0) for mvlm_matvec_q8_rows16:
/// xd[b] = block b's scale as f32, xsum16[2b], xsum16[2b + 1] = Σ of its int8 values 0-15 and 16-31.
void mvlm_q8_prepare(const void *xq, int64_t n, float *xd, int32_t *xsum16);

/// y[16g + r] = Σ over row 16g + r of w·x for the groups g in [first_group, last_group) of a matrix
/// of Q4_0 (0), Q8_0 (1), Q4_K (2) or Q6_K (3) blocks in the rows16 layout, `n` inputs per row,
/// against Q8_0 activations `xq` with their mvlm_q8_prepare companions. Decode's kernel: no
/// transposes or horizontal sums at run time (AVX-512 VNNI: one VPDPBUSD per 16 rows x 4 inputs;
/// arm64 dotprod: one SDOT by element per 4 rows x 4 inputs). Activations must come from
/// mvlm_quantize_q8_0 (|q| <= 127: the arm64 NEON level sums products in int16).
void mvlm_matvec_q8_rows16(int type, const void *w, int64_t first_group, int64_t last_group, const void *xq,
                           const float *xd, const int32_t *xsum16, int64_t n, float *y);

/// Codes of llama.cpp's legacy block types for mvlm_matvec_legacy / mvlm_gemm_legacy (matvec_legacy.c):
/// Q5_0 (22-byte blocks: f16 d, u32 fifth bits, 16 bytes of nibbles; w = d · (q - 16)), Q4_1
/// (20-byte blocks: f16 d, f16 m, 16 bytes of nibbles; w = d · q + m) and Q5_1 (24-byte blocks: f16
/// d, f16 m, u32 fifth bits, 16 bytes of nibbles; w = d · q + m).
enum { MVLM_LEGACY_Q5_0 = 0, MVLM_LEGACY_Q4_1 = 1, MVLM_LEGACY_Q5_1 = 2 };

/// mvlm_matvec_q8 for Q5_0, Q4_1 or Q5_1 rows (MVLM_LEGACY_*): y[r] for rows [first, last) of a row-major
/// matrix, `row_bytes` per row, against Q8_0 activations `xq` of `n` values (n % 32 == 0) and their
/// block sums `xsum` (from mvlm_quantize_q8_0; never NULL).
void mvlm_matvec_legacy(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xq,
                        const int32_t *xsum, int64_t n, float *y);

/// Bytes of scratch one thread needs for mvlm_gemm_legacy with `k` inputs.
int64_t mvlm_gemm_legacy_scratch_bytes(int64_t k);

/// sums[t * (k / 32) + b] = d · Σq of block b of token t's activations quantized as Q8_0 (d the f16
/// scale as f32): the min term of Q4_1 and Q5_1 in mvlm_gemm_legacy.
void mvlm_legacy_activation_sums(const float *x, int64_t tokens, int64_t k, float *sums);

/// mvlm_gemm_q8 for Q5_0, Q4_1 or Q5_1 rows (MVLM_LEGACY_*): rows [first, last), `row_bytes` per
/// row, against activations packed by mvlm_gemm_q8_pack; `xsums` from mvlm_legacy_activation_sums
/// (Q4_1 and Q5_1; may be NULL for Q5_0); `scratch` of mvlm_gemm_legacy_scratch_bytes(k). Tiles of 64 rows are
/// rewritten exactly as Q8_0 blocks and multiplied by mvlm_gemm_q8's Q8_0 kernel.
void mvlm_gemm_legacy(int type, const void *w, size_t row_bytes, int64_t first, int64_t last, const void *xp,
                      const float *xsums, int64_t tokens, int64_t k, const float *bias, float *y, int64_t ldy,
                      void *scratch);

/// A task of mvlm_pool_run: runs chunk `chunk` of the job.
typedef void (*mvlm_pool_task)(void *context, int64_t chunk);

/// Runs task(context, c) for every c in [0, chunks) on the calling thread and threads - 1 pool
/// workers (started on first use; they spin about a millisecond between jobs, then sleep). Returns
/// 1 when done, or 0 without running anything when the pool cannot take the job (threads < 2,
/// chunks < 2, another job in progress, or called from inside a task): the caller then runs the
/// chunks itself. Chunks may run in any order on any thread.
int mvlm_pool_run(int threads, int64_t chunks, mvlm_pool_task task, void *context);

/// Floats of scratch one thread needs for mvlm_attention.
int64_t mvlm_attention_scratch_count(int64_t tokens, int64_t past, int64_t head_dim);

/// Scaled dot-product attention for the work items [first_item, last_item) of heads x blocks of
/// 32 queries (item = head * blocks + block, blocks = ceil(tokens / 32)):
/// out[t, h*d + c] = Σ_j softmax_j(scale · q_t·k_j) v_j[c] over keys j < past + t + 1 (causal) or
/// j < past + tokens. q and out are [tokens, heads * d]; k and v hold past + tokens rows of
/// [kv_heads * d] (grouped-query: head h reads kv head h / (heads / kv_heads)). Both products run
/// through mvlm_gemm_float (scores, then probabilities x values); the softmax subtracts the row
/// maximum and uses expf. `scratch` holds mvlm_attention_scratch_count floats.
void mvlm_attention(const float *q, const float *k, const float *v, float *out, int64_t tokens, int64_t past,
                    int64_t heads, int64_t kv_heads, int64_t head_dim, float scale, int causal, int64_t first_item,
                    int64_t last_item, float *scratch);

/// The wrapping sum of `count` bytes read as little-endian 64-bit words (the last count % 8 bytes
/// added one by one), in the widest vectors the level allows: a plain read for measuring memory
/// bandwidth (`mvlm bench`). Every level returns the same sum.
uint64_t mvlm_read_sum(const void *bytes, int64_t count);

/// out[i] = silu(g[i]) · u[i] = g[i] / (1 + e^-g[i]) · u[i] (SwiGLU), vectorized with a polynomial
/// exp at the AVX2, AVX-512 and NEON levels (within a few ulp of expf's result). `out` may be `g` or `u`.
void mvlm_silu_mul(const float *g, const float *u, float *out, int64_t n);

/// out[i] = x[i] · sigmoid(1.702 · x[i]) = x[i] / (1 + e^(-1.702 x[i])) (CLIP's quick-GELU), with
/// the polynomial exp of mvlm_silu_mul at the vector levels (x86 AVX2 / AVX-512, arm64 NEON; within
/// a few ulp of the portable expf form, the tests bound it against a Double reference). `out` may
/// be `x`.
void mvlm_quick_gelu(const float *x, float *out, int64_t n);

/// Floats of scratch one thread needs for mvlm_attention_rows.
int64_t mvlm_attention_rows_scratch_count(int64_t tokens, int64_t past);

/// The same attention as mvlm_attention, for few query rows (decode): work items
/// [first_item, last_item) of tokens x heads (item = t * heads + h), each the dot products of the
/// query with every visible key, the softmax, and the probability-weighted sum of the values
/// (vector code at the AVX2 and AVX-512 levels, no matrix packing). `scratch` holds
/// mvlm_attention_rows_scratch_count floats.
void mvlm_attention_rows(const float *q, const float *k, const float *v, float *out, int64_t tokens, int64_t past,
                         int64_t heads, int64_t kv_heads, int64_t head_dim, float scale, int causal, int64_t first_item,
                         int64_t last_item, float *scratch);

/// Weight quantizers for conversion (quantize.c), byte-identical to llama.cpp's
/// quantize_row_q4_K_ref / quantize_row_q6_K_ref: `blocks` super-blocks of 256 floats (finite) to
/// 144-byte Q4_K or 210-byte Q6_K blocks. Vector code only (AVX2, AVX-512 or arm64 NEON): they
/// return 0 and write nothing at level 0, and the caller uses its portable path.
int mvlm_quantize_q4_k(const float *x, int64_t blocks, void *out);
int mvlm_quantize_q6_k(const float *x, int64_t blocks, void *out);

/// Q4_0 blocks byte-identical to gguf-python's quantizer: `blocks` blocks of 32 floats (finite) to
/// 18 bytes each. AVX2 or NEON; returns 0 and writes nothing at level 0.
int mvlm_quantize_q4_0(const float *x, int64_t blocks, void *out);

/// 1 when all `n` floats are finite (no NaN, no infinity), else 0. Any machine.
int mvlm_all_finite(const float *x, int64_t n);

/// Widens `n` f16 values (2-byte aligned) to f32, exactly (F16C, or NEON's FCVTL). Returns 0 and
/// writes nothing at level 0; the caller converts in software then.
int mvlm_widen_f16(const void *h, float *y, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
