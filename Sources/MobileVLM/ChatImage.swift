import MVLMCore
import MVLMImage

/// An image to ask about: decoded 8-bit RGB pixels (from the app's own decoder), or a PNG or
/// JPEG file decoded with libpng / libjpeg-turbo as Pillow decodes it (`MVLMImage`). The model's
/// CLIP preprocessing (resize, crop, normalize; docs/images.md) is applied when it is asked.
public struct ChatImage: Sendable, Hashable {
    let image: Image

    /// An image of `width` × `height` pixels from `rgb`: rows top to bottom, each pixel three bytes
    /// (red, green, blue), no padding — what a decoder gives after dropping alpha.
    /// - Throws: `MVLMError` (`.invalidArgument`) when a side is not positive or `rgb` does not
    ///   hold `width * height * 3` bytes.
    public init(width: Int, height: Int, rgb: [UInt8]) throws {
        guard width > 0, height > 0 else {
            throw MVLMError(.invalidArgument, "an image of \(width)×\(height) pixels: both sides must be positive")
        }
        let (count, overflow) = width.multipliedReportingOverflow(by: height * 3)
        guard !overflow, rgb.count == count else {
            throw MVLMError(.invalidArgument, "an RGB image of \(width)×\(height) needs \(overflow ? "more" : "\(count)") bytes, got \(rgb.count)")
        }
        image = Image(width: width, height: height, rgb: rgb)
    }

    /// The PNG or JPEG file at `path`, decoded to RGB (`MVLMImage.ImageDecoder`).
    /// - Throws: `MVLMError` naming the file when it cannot be read or decoded.
    public init(contentsOfFile path: String) throws {
        image = try ImageDecoder.decode(contentsOfFile: path)
    }

    /// Width and height in pixels.
    public var width: Int { image.width }
    public var height: Int { image.height }
}
