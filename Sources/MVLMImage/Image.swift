/// An 8-bit RGB image: `height` rows of `width` pixels, each pixel three bytes (red, green, blue),
/// rows top to bottom with no padding. What Pillow's `Image.open(f).convert("RGB")` holds.
public struct Image: Sendable, Hashable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes, interleaved R, G, B, row by row.
    public let rgb: [UInt8]

    /// An image over `rgb`.
    /// - Precondition: `width` and `height` are positive and `rgb.count == width * height * 3`.
    public init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(width > 0 && height > 0, "an image needs a positive width and height")
        precondition(rgb.count == width * height * 3, "an RGB image of \(width)×\(height) needs \(width * height * 3) bytes, got \(rgb.count)")
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// An image of `width` × `height` pixels all of `color` (red, green, blue), like Pillow's
    /// `Image.new("RGB", (width, height), color)`.
    public init(width: Int, height: Int, color: RGB) {
        precondition(width > 0 && height > 0, "an image needs a positive width and height")
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        bytes.withUnsafeMutableBufferPointer { out in
            for pixel in 0..<(width * height) {
                out[pixel * 3] = color.red
                out[pixel * 3 + 1] = color.green
                out[pixel * 3 + 2] = color.blue
            }
        }
        self.init(width: width, height: height, rgb: bytes)
    }

    /// The pixel at column `x`, row `y`.
    /// - Precondition: `0 <= x < width`, `0 <= y < height`.
    public subscript(x: Int, y: Int) -> RGB {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
        let offset = (y * width + x) * 3
        return RGB(red: rgb[offset], green: rgb[offset + 1], blue: rgb[offset + 2])
    }
}
