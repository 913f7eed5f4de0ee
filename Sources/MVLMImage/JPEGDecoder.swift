import CMVLMJPEG
import MVLMCore

/// JPEG files through libjpeg-turbo (baseline, progressive, arithmetic-coded; gray, YCbCr, RGB,
/// CMYK and YCCK), converted to RGB as Pillow's `Image.open(f).convert("RGB")` converts them.
///
/// Decoder settings are Pillow's: libjpeg's default (accurate integer) IDCT and fancy upsampling,
/// its colour-space guess from the JFIF/Adobe markers, output as gray, RGB or CMYK by the number
/// of components. Gray is replicated. CMYK and YCCK files are read as Adobe-inverted CMYK (Pillow's
/// `CMYK;I`) and converted with Pillow's `cmyk2rgb`. EXIF orientation is not applied (Pillow's
/// `open` does not apply it either). Errors, which libjpeg reports through `error_exit`, are caught
/// in the C shim (`Sources/CMVLMJPEG/shim.h`); warnings about corrupt entropy data are ignored, as
/// Pillow ignores them; data ending early is an error, as it is in Pillow.
public enum JPEGDecoder {
    static let rowsPerBatch = 16

    /// Decodes JPEG `bytes`; `name` appears in errors.
    /// - Throws: `MVLMError` naming `name`: `.truncated` when the data ends early, `.malformed`
    ///   with libjpeg's message for broken data, `.unsupported` for 12-bit samples, 2-component
    ///   frames, too many progressive scans or an image above `limits`, `.io` when memory runs out.
    public static func decode(bytes: UnsafeRawBufferPointer, name: String, limits: ImageLimits = .default) throws -> Image {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw MVLMError(.truncated, "the JPEG data is empty", file: name)
        }
        guard let decoder = mvlm_jpeg_create() else {
            throw MVLMError(.io, "out of memory creating a JPEG decoder", file: name)
        }
        defer { mvlm_jpeg_destroy(decoder) }

        // libjpeg's own buffers (a progressive file keeps every coefficient: 2 bytes a sample) are
        // bounded by the pixel limit.
        let memory = min(limits.maxPixels, 1 << 40) * 4 * 2 + (64 << 20)
        var info = mvlm_jpeg_info()
        try check(
            mvlm_jpeg_open(decoder, base, bytes.count, memory, Int32(clamping: limits.maxJPEGScans), &info),
            decoder, name: name, size: bytes.count, stage: "header")
        let components = Int(info.components)
        guard components == 1 || components == 3 || components == 4 else {
            throw MVLMError(.unsupported, "the JPEG has \(components) components; only 1 (gray), 3 (colour) and 4 (CMYK) are read", file: name)
        }
        guard info.precision == 8 else {
            throw MVLMError(.unsupported, "the JPEG has \(info.precision)-bit samples; only 8-bit JPEGs are read", file: name)
        }
        try limits.check(width: Int(info.width), height: Int(info.height), format: "JPEG", name: name)

        var outputWidth: UInt32 = 0
        var outputHeight: UInt32 = 0
        try check(
            mvlm_jpeg_start(decoder, Int32(components), &outputWidth, &outputHeight), decoder,
            name: name, size: bytes.count, stage: "scan data")
        let width = Int(outputWidth)
        let height = Int(outputHeight)
        guard width == Int(info.width), height == Int(info.height) else {
            throw MVLMError(.malformed, "libjpeg decodes \(width)×\(height) pixels, the header says \(info.width)×\(info.height)", file: name)
        }

        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let rowBytes = width * components
        try rgb.withUnsafeMutableBufferPointer { out in
            if components == 3 {
                try check(
                    mvlm_jpeg_read_rows(decoder, out.baseAddress, rowBytes, UInt32(height)), decoder,
                    name: name, size: bytes.count, stage: "scan data")
                return
            }
            var batch = [UInt8](repeating: 0, count: rowBytes * min(rowsPerBatch, height))
            try batch.withUnsafeMutableBufferPointer { rows in
                var row = 0
                while row < height {
                    let count = min(rowsPerBatch, height - row)
                    try check(
                        mvlm_jpeg_read_rows(decoder, rows.baseAddress, rowBytes, UInt32(count)), decoder,
                        name: name, size: bytes.count, stage: "scan data")
                    let target = UnsafeMutableBufferPointer(rebasing: out[(row * width * 3)..<((row + count) * width * 3)])
                    let source = UnsafeBufferPointer(rebasing: rows[0..<(count * rowBytes)])
                    if components == 1 {
                        grayToRGB(source, into: target)
                    } else {
                        invertedCMYKToRGB(source, into: target)
                    }
                    row += count
                }
            }
        }
        return Image(width: width, height: height, rgb: rgb)
    }

    /// Gray replicated into R, G and B (Pillow's `l2rgb`).
    static func grayToRGB(_ gray: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count >= gray.count * 3, "RGB buffer too short")
        for index in 0..<gray.count {
            let value = gray[index]
            out[index &* 3] = value
            out[index &* 3 &+ 1] = value
            out[index &* 3 &+ 2] = value
        }
    }

    /// libjpeg's CMYK output read as Adobe-inverted (`CMYK;I`: every byte `255 - x`), then
    /// Pillow's `cmyk2rgb`: with `nk = 255 - k`, each of R, G, B is
    /// `clip(nk - (c * nk + 128 + ((c * nk + 128) >> 8)) >> 8)` for its C, M or Y.
    static func invertedCMYKToRGB(_ cmyk: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        let pixels = cmyk.count / 4
        precondition(out.count >= pixels * 3, "RGB buffer too short")
        for pixel in 0..<pixels {
            let source = pixel &* 4
            let notBlack = Int(cmyk[source &+ 3])  // 255 - (255 - stored k)
            for channel in 0..<3 {
                let ink = 255 &- Int(cmyk[source &+ channel])
                let product = ink &* notBlack &+ 128
                let scaled = ((product >> 8) &+ product) >> 8
                out[pixel &* 3 &+ channel] = UInt8(clamping: notBlack &- scaled)
            }
        }
    }

    private static func check(
        _ status: Int32, _ decoder: UnsafeMutablePointer<mvlm_jpeg_decoder>, name: String, size: Int, stage: String
    ) throws {
        let message = String(cString: mvlm_jpeg_message(decoder))
        switch Int(status) {
        case Int(MVLM_JPEG_OK):
            return
        case Int(MVLM_JPEG_TRUNCATED):
            throw MVLMError(
                .truncated,
                "the JPEG data ends early (in the \(stage), after \(size) bytes): the file is cut short; download or export it again",
                file: name)
        case Int(MVLM_JPEG_UNSUPPORTED):
            throw MVLMError(.unsupported, "this JPEG cannot be decoded here: libjpeg says \"\(message)\"", file: name)
        case Int(MVLM_JPEG_TOO_MANY_SCANS):
            throw MVLMError(
                .unsupported,
                "the progressive JPEG has \(message) (ImageLimits.maxJPEGScans); re-encode it",
                file: name)
        case Int(MVLM_JPEG_NO_MEMORY):
            throw MVLMError(.io, "out of memory decoding the JPEG \(stage)", file: name)
        default:
            throw MVLMError(.malformed, "broken JPEG \(stage): libjpeg says \"\(message)\"", file: name)
        }
    }
}
