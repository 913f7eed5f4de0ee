import CMVLMPNG
import MVLMCore

/// PNG files through libpng (every colour type and bit depth, Adam7 interlacing), converted to RGB
/// as Pillow's `Image.open(f).convert("RGB")` converts them (`PNGDecoder.RowConverter`).
///
/// libpng is asked only to unpack sub-byte samples and to de-interlace; its errors, which it
/// reports by `longjmp`, are caught in the C shim (`Sources/CMVLMPNG/shim.h`) and thrown here as
/// `MVLMError`. Ancillary chunks (gAMA, iCCP, sBIT, tRNS, ...) do not change the pixels, as in
/// Pillow. Image data ending early is an error, as it is in Pillow.
public enum PNGDecoder {
    /// Rows read per call into the C shim for non-interlaced images.
    static let rowsPerBatch = 16

    /// Decodes PNG `bytes`; `name` appears in errors.
    /// - Throws: `MVLMError` naming `name`: `.truncated` when the data ends early, `.malformed`
    ///   with libpng's message for broken data (bad CRC, bad zlib stream, bad IHDR), `.unsupported`
    ///   for an image above `limits`, `.io` when memory runs out.
    public static func decode(bytes: UnsafeRawBufferPointer, name: String, limits: ImageLimits = .default) throws -> Image {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw MVLMError(.truncated, "the PNG data is empty", file: name)
        }
        guard let decoder = mvlm_png_create() else {
            throw MVLMError(.io, "out of memory creating a PNG decoder", file: name)
        }
        defer { mvlm_png_destroy(decoder) }

        var info = mvlm_png_info()
        try check(mvlm_png_open(decoder, base, bytes.count, &info), decoder, name: name, size: bytes.count, stage: "header")
        let width = Int(info.width)
        let height = Int(info.height)
        try limits.check(width: width, height: height, format: "PNG", name: name)

        var palette = [UInt8](repeating: 0, count: 768)
        palette.withUnsafeMutableBufferPointer { mvlm_png_copy_palette(decoder, $0.baseAddress) }
        let converter = try RowConverter(
            colorType: Int(info.color_type), bitDepth: Int(info.bit_depth), palette: palette,
            paletteCount: Int(info.palette_count), name: name)
        let rowBytes = width * converter.channels * converter.bytesPerSample
        guard Int(info.channels) == converter.channels, info.row_bytes == UInt64(rowBytes) else {
            throw MVLMError(
                .malformed,
                "libpng hands out rows of \(info.row_bytes) bytes and \(info.channels) channels, expected \(rowBytes) and \(converter.channels) for colour type \(info.color_type) at \(info.bit_depth) bits",
                file: name)
        }

        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        try rgb.withUnsafeMutableBufferPointer { out in
            if info.interlaced != 0 {
                // Adam7: every pass writes its pixels into the full stored image.
                var stored = [UInt8](repeating: 0, count: rowBytes * height)
                try stored.withUnsafeMutableBufferPointer { rows in
                    for _ in 0..<Int(info.passes) {
                        try check(
                            mvlm_png_read_rows(decoder, rows.baseAddress, rowBytes, UInt32(height)), decoder,
                            name: name, size: bytes.count, stage: "image data")
                    }
                    for row in 0..<height {
                        converter.convert(
                            UnsafeBufferPointer(rebasing: rows[(row * rowBytes)..<((row + 1) * rowBytes)]),
                            width: width, into: UnsafeMutableBufferPointer(rebasing: out[(row * width * 3)..<((row + 1) * width * 3)]))
                    }
                }
            } else {
                var batch = [UInt8](repeating: 0, count: rowBytes * min(rowsPerBatch, height))
                try batch.withUnsafeMutableBufferPointer { rows in
                    var row = 0
                    while row < height {
                        let count = min(rowsPerBatch, height - row)
                        try check(
                            mvlm_png_read_rows(decoder, rows.baseAddress, rowBytes, UInt32(count)), decoder,
                            name: name, size: bytes.count, stage: "image data")
                        for index in 0..<count {
                            let target = (row + index) * width * 3
                            converter.convert(
                                UnsafeBufferPointer(rebasing: rows[(index * rowBytes)..<((index + 1) * rowBytes)]),
                                width: width, into: UnsafeMutableBufferPointer(rebasing: out[target..<(target + width * 3)]))
                        }
                        row += count
                    }
                }
            }
        }
        return Image(width: width, height: height, rgb: rgb)
    }

    private static func check(
        _ status: Int32, _ decoder: UnsafeMutablePointer<mvlm_png_decoder>, name: String, size: Int, stage: String
    ) throws {
        switch Int(status) {
        case Int(MVLM_PNG_OK):
            return
        case Int(MVLM_PNG_TRUNCATED):
            throw MVLMError(
                .truncated,
                "the PNG data ends early (in the \(stage), after \(size) bytes): the file is cut short; download or export it again",
                file: name)
        case Int(MVLM_PNG_NO_MEMORY):
            throw MVLMError(.io, "out of memory decoding the PNG \(stage)", file: name)
        default:
            let message = String(cString: mvlm_png_message(decoder))
            throw MVLMError(.malformed, "broken PNG \(stage): libpng says \"\(message)\"", file: name)
        }
    }
}
