/// The file formats the decoders tell apart by their first bytes (never by the file's extension).
public enum ImageFormat: String, Sendable, Hashable, CaseIterable {
    case png
    case jpeg
    // Recognized only to name them in the error.
    case gif
    case bmp
    case webp
    case tiff
    case heif

    /// Whether `ImageDecoder` decodes this format.
    public var isDecodable: Bool { self == .png || self == .jpeg }

    /// The format's usual name.
    public var name: String {
        switch self {
        case .png: "PNG"
        case .jpeg: "JPEG"
        case .gif: "GIF"
        case .bmp: "BMP"
        case .webp: "WebP"
        case .tiff: "TIFF"
        case .heif: "HEIF/AVIF"
        }
    }

    /// The format whose signature `bytes` starts with, or `nil`.
    ///
    /// PNG: `89 50 4E 47 0D 0A 1A 0A`; JPEG: `FF D8 FF` (SOI and the next marker's `FF`).
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        func starts(with signature: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + signature.count else { return false }
            for (index, byte) in signature.enumerated() where bytes[offset + index] != byte { return false }
            return true
        }
        if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(with: Array("GIF87a".utf8)) || starts(with: Array("GIF89a".utf8)) { return .gif }
        if starts(with: Array("BM".utf8)) { return .bmp }
        if starts(with: Array("RIFF".utf8)) && starts(with: Array("WEBP".utf8), at: 8) { return .webp }
        if starts(with: [0x49, 0x49, 0x2A, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(with: Array("ftyp".utf8), at: 4) { return .heif }
        return nil
    }
}
