/* The independent reference for the IQ4_NL fixtures (gen_iq4nl.py): runs llama.cpp's own
 * quantize_iq4_nl (what llama-quantize calls, with and without an importance matrix) and
 * dequantize_row_iq4_nl on rows of floats. Written for this repository; it only calls ggml's
 * public functions and is linked at generation time against llama.cpp's libggml-base.a
 * (not part of this repository):
 *
 *   cc -O2 -I LLAMA/ggml/include -I LLAMA/ggml/src iq4nl_harness.c LIBGGML_BASE.a -lm -lpthread -fopenmp -lstdc++
 *
 * Usage: iq4nl_harness COLUMNS rows.f32 out.bin deq.f32 [importance.f32]
 */
#include <stdio.h>
#include <stdlib.h>
#include "ggml.h"
#include "ggml-quants.h"

static void *slurp(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = malloc(*size ? *size : 1);
    if (fread(data, 1, *size, f) != (size_t)*size) { perror(path); exit(1); }
    fclose(f);
    return data;
}

static void spill(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size) { perror(path); exit(1); }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s COLUMNS rows.f32 out.bin deq.f32 [importance.f32]\n", argv[0]); return 2; }
    long columns = atol(argv[1]), size = 0, wsize = 0;
    float *rows = slurp(argv[2], &size);
    long nrows = size / 4 / columns;
    const float *importance = argc > 5 ? slurp(argv[5], &wsize) : NULL;
    if (importance && wsize != columns * 4) { fprintf(stderr, "importance must have COLUMNS floats\n"); return 2; }
    size_t row_bytes = (size_t)columns / 32 * 18;
    unsigned char *out = calloc(nrows, row_bytes);
    float *deq = calloc(nrows * columns, 4);
    /* ggml_quantize_chunk passes the same importance row to every row: do the same. */
    for (long r = 0; r < nrows; r++) {
        quantize_iq4_nl(rows + r * columns, out + r * row_bytes, 1, columns, importance);
        dequantize_row_iq4_nl((const block_iq4_nl *)(out + r * row_bytes), deq + r * columns, columns);
    }
    spill(argv[3], out, nrows * row_bytes);
    spill(argv[4], deq, nrows * columns * 4);
    return 0;
}
