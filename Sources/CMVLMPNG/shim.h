#ifndef CMVLM_PNG_SHIM_H
#define CMVLM_PNG_SHIM_H
// libpng reports errors by longjmp. Every libpng call happens inside one of the functions below,
// each of which sets its own setjmp point first, so a broken file returns a status here instead of
// unwinding through Swift frames. No transformations are requested except packing sub-byte samples
// into bytes and de-interlacing: Swift converts the stored samples to RGB the way Pillow does.
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    MVLM_PNG_OK = 0,
    /// libpng refused the data (message in mvlm_png_message).
    MVLM_PNG_ERROR = 1,
    /// The data ended before libpng had read what it needed.
    MVLM_PNG_TRUNCATED = 2,
    /// Out of memory, or a call out of order.
    MVLM_PNG_NO_MEMORY = 3,
};

/// What the header says, after packing: one byte per sample below 8 bits, two (big-endian) at 16.
typedef struct mvlm_png_info {
    uint32_t width;
    uint32_t height;
    /// 1, 2, 4, 8 or 16 as stored in IHDR.
    int32_t bit_depth;
    /// IHDR colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    int32_t color_type;
    /// 1 for Adam7, 0 for none.
    int32_t interlaced;
    /// How many times every row must be read (7 for Adam7, else 1).
    int32_t passes;
    /// Samples per pixel in the rows handed out (palette: 1, the index).
    int32_t channels;
    /// Bytes in one row handed out.
    uint64_t row_bytes;
    /// PLTE entries (0 when absent).
    int32_t palette_count;
} mvlm_png_info;

typedef struct mvlm_png_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t offset;
    int truncated;
    int opened;
    char message[256];
} mvlm_png_decoder;

static void mvlm_png_error_fn(png_structp png, png_const_charp text) {
    mvlm_png_decoder *decoder = (mvlm_png_decoder *)png_get_error_ptr(png);
    if (decoder && text) {
        strncpy(decoder->message, text, sizeof decoder->message - 1);
        decoder->message[sizeof decoder->message - 1] = 0;
    }
    png_longjmp(png, 1);
}

static void mvlm_png_warning_fn(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void mvlm_png_read_fn(png_structp png, png_bytep out, size_t length) {
    mvlm_png_decoder *decoder = (mvlm_png_decoder *)png_get_io_ptr(png);
    if (length > decoder->size - decoder->offset) {
        decoder->truncated = 1;
        png_error(png, "the file ends early");
    }
    memcpy(out, decoder->data + decoder->offset, length);
    decoder->offset += length;
}

/// A decoder with no file yet; NULL when out of memory. Free with mvlm_png_destroy.
static inline mvlm_png_decoder *mvlm_png_create(void) {
    return (mvlm_png_decoder *)calloc(1, sizeof(mvlm_png_decoder));
}

static inline void mvlm_png_destroy(mvlm_png_decoder *decoder) {
    if (!decoder) return;
    if (decoder->png) png_destroy_read_struct(&decoder->png, &decoder->info, NULL);
    free(decoder);
}

static inline const char *mvlm_png_message(const mvlm_png_decoder *decoder) {
    return decoder->message;
}

static inline int mvlm_png_status(const mvlm_png_decoder *decoder) {
    return decoder->truncated ? MVLM_PNG_TRUNCATED : MVLM_PNG_ERROR;
}

/// Reads the signature and every chunk before the image data (png_read_info) from `data`, which
/// must stay valid until the decoder is destroyed, and fills `out`.
static inline int mvlm_png_open(mvlm_png_decoder *decoder, const void *data, size_t size, mvlm_png_info *out) {
    if (decoder->png) return MVLM_PNG_NO_MEMORY;
    decoder->data = (const uint8_t *)data;
    decoder->size = size;
    decoder->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, decoder, mvlm_png_error_fn, mvlm_png_warning_fn);
    if (!decoder->png) return MVLM_PNG_NO_MEMORY;
    decoder->info = png_create_info_struct(decoder->png);
    if (!decoder->info) return MVLM_PNG_NO_MEMORY;
    if (setjmp(png_jmpbuf(decoder->png))) return mvlm_png_status(decoder);
    png_set_read_fn(decoder->png, decoder, mvlm_png_read_fn);
    // A bad CRC in an ancillary chunk is an error too (libpng would drop the chunk and go on;
    // Pillow refuses the file).
    png_set_crc_action(decoder->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_read_info(decoder->png, decoder->info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(decoder->png, decoder->info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    out->width = width;
    out->height = height;
    out->bit_depth = bit_depth;
    out->color_type = color_type;
    out->interlaced = interlace == PNG_INTERLACE_ADAM7;
    out->palette_count = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int count = 0;
        if (png_get_PLTE(decoder->png, decoder->info, &palette, &count) & PNG_INFO_PLTE) out->palette_count = count;
    }
    if (bit_depth < 8) png_set_packing(decoder->png);
    out->passes = png_set_interlace_handling(decoder->png);
    png_read_update_info(decoder->png, decoder->info);
    out->channels = png_get_channels(decoder->png, decoder->info);
    out->row_bytes = png_get_rowbytes(decoder->png, decoder->info);
    decoder->opened = 1;
    return MVLM_PNG_OK;
}

/// Copies the PLTE entries (RGB triples, `mvlm_png_info.palette_count` of them) into `out`, which
/// holds 768 bytes.
static inline void mvlm_png_copy_palette(mvlm_png_decoder *decoder, uint8_t *out) {
    memset(out, 0, 768);
    if (!decoder->opened) return;
    png_colorp palette = NULL;
    int count = 0;
    if (!(png_get_PLTE(decoder->png, decoder->info, &palette, &count) & PNG_INFO_PLTE)) return;
    if (count > 256) count = 256;
    for (int index = 0; index < count; index++) {
        out[index * 3 + 0] = palette[index].red;
        out[index * 3 + 1] = palette[index].green;
        out[index * 3 + 2] = palette[index].blue;
    }
}

/// Reads `count` rows of the current pass into `base`, `base + stride`, ... (png_read_row). With
/// Adam7, each pass is read as `height` rows into the same full-image buffer, and libpng fills in
/// the pixels that pass carries.
static inline int mvlm_png_read_rows(mvlm_png_decoder *decoder, uint8_t *base, size_t stride, uint32_t count) {
    if (!decoder->opened) return MVLM_PNG_NO_MEMORY;
    if (setjmp(png_jmpbuf(decoder->png))) return mvlm_png_status(decoder);
    for (uint32_t row = 0; row < count; row++) png_read_row(decoder->png, base + (size_t)row * stride, NULL);
    return MVLM_PNG_OK;
}

#endif
