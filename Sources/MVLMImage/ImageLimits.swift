import MVLMCore

/// The largest image the decoders accept, checked against the header before any pixel memory is
/// allocated, so a 100-byte file that claims 100000×100000 pixels is refused instead of taking
/// 30 GB.
public struct ImageLimits: Sendable, Hashable {
    /// The longest side in pixels.
    public var maxDimension: Int
    /// Width × height.
    public var maxPixels: Int
    /// Scans a progressive JPEG may have (a file of thousands of tiny scans can take minutes to
    /// decode; ordinary encoders write about 10).
    public var maxJPEGScans: Int

    /// 16384 pixels a side, 2^28 pixels (768 MiB of RGB), 1000 JPEG scans.
    public static let `default` = ImageLimits(maxDimension: 16384, maxPixels: 1 << 28, maxJPEGScans: 1000)

    public init(maxDimension: Int, maxPixels: Int, maxJPEGScans: Int = 1000) {
        self.maxDimension = maxDimension
        self.maxPixels = maxPixels
        self.maxJPEGScans = maxJPEGScans
    }

    /// Throws unless a `format` image of `width` × `height` lies within the limits.
    func check(width: Int, height: Int, format: String, name: String) throws {
        guard width > 0, height > 0 else {
            throw MVLMError(.malformed, "the \(format) header gives a size of \(width)×\(height) pixels; an image needs at least one pixel", file: name)
        }
        guard width <= maxDimension, height <= maxDimension else {
            throw MVLMError(
                .unsupported,
                "the \(format) image is \(width)×\(height) pixels, above the limit of \(maxDimension) pixels a side (ImageLimits.maxDimension); downscale it first",
                file: name)
        }
        guard width * height <= maxPixels else {
            throw MVLMError(
                .unsupported,
                "the \(format) image is \(width)×\(height) = \(width * height) pixels, above the limit of \(maxPixels) (ImageLimits.maxPixels); downscale it first",
                file: name)
        }
    }
}
