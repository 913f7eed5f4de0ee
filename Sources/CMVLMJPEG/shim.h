#ifndef CMVLM_JPEG_SHIM_H
#define CMVLM_JPEG_SHIM_H
// libjpeg reports fatal errors through error_exit, which must not return. Every libjpeg call
// happens inside one of the functions below, each of which sets its own setjmp point first, so a
// broken file returns a status here instead of unwinding through Swift frames. Warnings (corrupt
// entropy data that libjpeg repairs) are silenced, as Pillow silences them; running out of data is
// an error (libjpeg's own memory source would pad with a fake EOI and return a grey tail).
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

enum {
    MVLM_JPEG_OK = 0,
    /// libjpeg refused the data (message in mvlm_jpeg_message).
    MVLM_JPEG_ERROR = 1,
    /// The data ended before libjpeg had read what it needed.
    MVLM_JPEG_TRUNCATED = 2,
    /// A valid file this build of libjpeg cannot decode (12-bit samples, an impossible conversion).
    MVLM_JPEG_UNSUPPORTED = 3,
    /// Out of memory, or a call out of order.
    MVLM_JPEG_NO_MEMORY = 4,
    /// More progressive scans than allowed (a decompression-time bomb).
    MVLM_JPEG_TOO_MANY_SCANS = 5,
};

/// What the frame header says.
typedef struct mvlm_jpeg_info {
    uint32_t width;
    uint32_t height;
    /// Components in the frame: 1 (gray), 3 (YCbCr or RGB), 4 (CMYK or YCCK).
    int32_t components;
    /// libjpeg's J_COLOR_SPACE guess for the stored data (JCS_YCbCr, JCS_YCCK, ...).
    int32_t color_space;
    int32_t precision;
    int32_t progressive;
} mvlm_jpeg_info;

typedef struct mvlm_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr error;
    struct jpeg_source_mgr source;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int created;
    int started;
    int status;
    int max_scans;
    char message[JMSG_LENGTH_MAX + 64];
} mvlm_jpeg_decoder;

static void mvlm_jpeg_error_exit(j_common_ptr cinfo) {
    mvlm_jpeg_decoder *decoder = (mvlm_jpeg_decoder *)cinfo->client_data;
    (*cinfo->err->format_message)(cinfo, decoder->message);
    if (decoder->status == MVLM_JPEG_OK) {
        int code = cinfo->err->msg_code;
        decoder->status = (code == JERR_BAD_PRECISION || code == JERR_CONVERSION_NOTIMPL)
            ? MVLM_JPEG_UNSUPPORTED : MVLM_JPEG_ERROR;
    }
    longjmp(decoder->jump, 1);
}

static void mvlm_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void mvlm_jpeg_init_source(j_decompress_ptr cinfo) { (void)cinfo; }

static boolean mvlm_jpeg_fill_input_buffer(j_decompress_ptr cinfo) {
    mvlm_jpeg_decoder *decoder = (mvlm_jpeg_decoder *)cinfo->client_data;
    decoder->status = MVLM_JPEG_TRUNCATED;
    ERREXIT(cinfo, JERR_INPUT_EOF);
    return FALSE;
}

static void mvlm_jpeg_skip_input_data(j_decompress_ptr cinfo, long count) {
    if (count <= 0) return;
    struct jpeg_source_mgr *source = cinfo->src;
    if ((size_t)count > source->bytes_in_buffer) {
        mvlm_jpeg_fill_input_buffer(cinfo);
        return;
    }
    source->next_input_byte += count;
    source->bytes_in_buffer -= (size_t)count;
}

static void mvlm_jpeg_term_source(j_decompress_ptr cinfo) { (void)cinfo; }

static void mvlm_jpeg_progress_monitor(j_common_ptr cinfo) {
    mvlm_jpeg_decoder *decoder = (mvlm_jpeg_decoder *)cinfo->client_data;
    if (decoder->cinfo.input_scan_number > decoder->max_scans) {
        decoder->status = MVLM_JPEG_TOO_MANY_SCANS;
        snprintf(decoder->message, sizeof decoder->message, "more than %d progressive scans", decoder->max_scans);
        longjmp(decoder->jump, 1);
    }
}

/// A decoder with no file yet; NULL when out of memory. Free with mvlm_jpeg_destroy.
static inline mvlm_jpeg_decoder *mvlm_jpeg_create(void) {
    return (mvlm_jpeg_decoder *)calloc(1, sizeof(mvlm_jpeg_decoder));
}

static inline void mvlm_jpeg_destroy(mvlm_jpeg_decoder *decoder) {
    if (!decoder) return;
    if (decoder->created) jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder);
}

static inline const char *mvlm_jpeg_message(const mvlm_jpeg_decoder *decoder) { return decoder->message; }

/// Reads the markers up to the first scan (jpeg_read_header) from `data`, which must stay valid
/// until the decoder is destroyed, and fills `out`. libjpeg may use at most `max_memory` bytes and
/// read at most `max_scans` scans.
static inline int mvlm_jpeg_open(
    mvlm_jpeg_decoder *decoder, const void *data, size_t size, long max_memory, int max_scans,
    mvlm_jpeg_info *out
) {
    if (decoder->created) return MVLM_JPEG_NO_MEMORY;
    decoder->cinfo.err = jpeg_std_error(&decoder->error);
    decoder->error.error_exit = mvlm_jpeg_error_exit;
    decoder->error.output_message = mvlm_jpeg_output_message;
    decoder->cinfo.client_data = decoder;
    decoder->max_scans = max_scans;
    if (setjmp(decoder->jump)) return decoder->status;
    jpeg_create_decompress(&decoder->cinfo);
    decoder->created = 1;
    decoder->cinfo.mem->max_memory_to_use = max_memory;

    decoder->source.init_source = mvlm_jpeg_init_source;
    decoder->source.fill_input_buffer = mvlm_jpeg_fill_input_buffer;
    decoder->source.skip_input_data = mvlm_jpeg_skip_input_data;
    decoder->source.resync_to_restart = jpeg_resync_to_restart;
    decoder->source.term_source = mvlm_jpeg_term_source;
    decoder->source.next_input_byte = (const JOCTET *)data;
    decoder->source.bytes_in_buffer = size;
    decoder->cinfo.src = &decoder->source;
    decoder->progress.progress_monitor = mvlm_jpeg_progress_monitor;
    decoder->cinfo.progress = &decoder->progress;

    jpeg_read_header(&decoder->cinfo, TRUE);
    out->width = decoder->cinfo.image_width;
    out->height = decoder->cinfo.image_height;
    out->components = decoder->cinfo.num_components;
    out->color_space = decoder->cinfo.jpeg_color_space;
    out->precision = decoder->cinfo.data_precision;
    out->progressive = decoder->cinfo.progressive_mode ? 1 : 0;
    return MVLM_JPEG_OK;
}

/// Starts decompression with output `components` per pixel: 1 (JCS_GRAYSCALE), 3 (JCS_RGB from
/// YCbCr or RGB) or 4 (JCS_CMYK from CMYK or YCCK), libjpeg's default DCT and fancy upsampling as
/// Pillow uses them (jpeg_start_decompress; a progressive file is read whole here). Writes the
/// output size to `width` and `height`.
static inline int mvlm_jpeg_start(mvlm_jpeg_decoder *decoder, int components, uint32_t *width, uint32_t *height) {
    if (!decoder->created || decoder->started) return MVLM_JPEG_NO_MEMORY;
    if (setjmp(decoder->jump)) return decoder->status;
    decoder->cinfo.out_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_start_decompress(&decoder->cinfo);
    decoder->started = 1;
    if (decoder->cinfo.output_components != components) {
        snprintf(decoder->message, sizeof decoder->message, "libjpeg gives %d components per pixel, expected %d",
                 decoder->cinfo.output_components, components);
        return MVLM_JPEG_UNSUPPORTED;
    }
    *width = decoder->cinfo.output_width;
    *height = decoder->cinfo.output_height;
    return MVLM_JPEG_OK;
}

/// Reads the next `count` rows into `base`, `base + stride`, ... (jpeg_read_scanlines).
static inline int mvlm_jpeg_read_rows(mvlm_jpeg_decoder *decoder, uint8_t *base, size_t stride, uint32_t count) {
    if (!decoder->started) return MVLM_JPEG_NO_MEMORY;
    if (setjmp(decoder->jump)) return decoder->status;
    for (uint32_t row = 0; row < count; row++) {
        JSAMPROW pointer = base + (size_t)row * stride;
        if (jpeg_read_scanlines(&decoder->cinfo, &pointer, 1) != 1) {
            decoder->status = MVLM_JPEG_TRUNCATED;
            snprintf(decoder->message, sizeof decoder->message, "libjpeg returned no row");
            return decoder->status;
        }
    }
    return MVLM_JPEG_OK;
}

#endif
