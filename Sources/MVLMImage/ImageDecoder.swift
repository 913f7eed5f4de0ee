import MVLMCore
import MVLMFileIO

/// Decodes PNG and JPEG files to RGB, choosing the decoder by the file's first bytes.
///
/// The result is what Pillow gives for `Image.open(f).convert("RGB")`: alpha is dropped (not
/// composited), gray is replicated, palettes are looked up, 16-bit samples are reduced as Pillow
/// reduces them, CMYK JPEGs are converted with Pillow's formula. See docs/images.md.
public enum ImageDecoder {
    /// Decodes the PNG or JPEG file at `path` (memory-mapped with `MappedFile`).
    /// - Throws: `MVLMError` naming `path`: `.io` when the file cannot be read, `.malformed` or
    ///   `.truncated` for broken data, `.unsupported` for other formats or images above `limits`.
    public static func decode(contentsOfFile path: String, limits: ImageLimits = .default) throws -> Image {
        let file = try MappedFile(path: path)
        return try file.withUnsafeBytes { try decode(bytes: $0, name: path, limits: limits) }
    }

    /// Decodes PNG or JPEG `bytes`; `name` (a path or label) appears in errors.
    /// - Throws: `MVLMError` as `decode(contentsOfFile:limits:)` does.
    public static func decode(bytes: UnsafeRawBufferPointer, name: String, limits: ImageLimits = .default) throws -> Image {
        guard bytes.count > 0 else {
            throw MVLMError(.truncated, "the file is empty (0 bytes); expected a PNG or JPEG image", file: name)
        }
        switch ImageFormat.detect(bytes) {
        case .png: return try PNGDecoder.decode(bytes: bytes, name: name, limits: limits)
        case .jpeg: return try JPEGDecoder.decode(bytes: bytes, name: name, limits: limits)
        case .some(let other):
            throw MVLMError(.unsupported, "this is a \(other.name) image; only PNG and JPEG are read (convert it to PNG first)", file: name)
        case nil:
            let shown = bytes.prefix(8).map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
            throw MVLMError(
                .malformed,
                "not a PNG or JPEG image: the file starts with \(shown), expected 89 50 4e 47 0d 0a 1a 0a (PNG) or ff d8 ff (JPEG)",
                file: name)
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
