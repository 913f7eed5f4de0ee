/// Turns decoded images into CLIP pixel values with `ImagePreprocessing`'s steps.
///
/// Equivalent to MobileVLM's
/// ```python
/// image = Image.open(f).convert("RGB")
/// image = expand2square(image, tuple(int(x * 255) for x in processor.image_mean))  # if "pad"
/// pixel_values = processor.preprocess(image, return_tensors="pt")["pixel_values"][0]
/// ```
/// with a PIL-based `CLIPImageProcessor`. The bytes up to the crop are Pillow's exactly; the floats
/// follow transformers' order of operations (`float32(float64(byte) * rescale_factor)`, then
/// `(x - mean) / std` in float32).
public struct ImagePreprocessor: Sendable {
    public let parameters: ImagePreprocessing

    public init(_ parameters: ImagePreprocessing) {
        self.parameters = parameters
    }

    /// The 8-bit image after padding, resizing and cropping: what is rescaled and normalized.
    public func preparedImage(_ image: Image) -> Image {
        var image = image
        if parameters.padToSquare {
            image = image.expandedToSquare(background: parameters.padColor)
        }
        if parameters.doResize {
            let size = parameters.resizedSize(width: image.width, height: image.height)
            image = image.resized(
                width: size.width, height: size.height, filter: parameters.resample, passOrder: parameters.resamplePassOrder)
        }
        if parameters.doCenterCrop {
            image = image.centerCropped(width: parameters.cropWidth, height: parameters.cropHeight)
        }
        return image
    }

    /// Channel-first float32 pixel values `[3, height, width]` (`parameters.outputShape`):
    /// `[3, 336, 336]` for `ImagePreprocessing.clip336`.
    public func pixelValues(_ image: Image) -> [Float] {
        let prepared = preparedImage(image)
        let plane = prepared.width * prepared.height
        // Every output value is a function of its byte and channel: one table of 256 per channel.
        var tables = [Float](repeating: 0, count: 3 * 256)
        for channel in 0..<3 {
            let mean = parameters.imageMean.count == 3 ? parameters.imageMean[channel] : 0
            let std = parameters.imageStd.count == 3 ? parameters.imageStd[channel] : 1
            for byte in 0..<256 {
                var value = parameters.doRescale ? Float(Double(byte) * parameters.rescaleFactor) : Float(byte)
                if parameters.doNormalize { value = (value - mean) / std }
                tables[channel * 256 + byte] = value
            }
        }
        var values = [Float](repeating: 0, count: 3 * plane)
        prepared.rgb.withUnsafeBufferPointer { rgb in
            tables.withUnsafeBufferPointer { tables in
                values.withUnsafeMutableBufferPointer { values in
                    for pixel in 0..<plane {
                        values[pixel] = tables[Int(rgb[pixel &* 3])]
                        values[plane &+ pixel] = tables[256 &+ Int(rgb[pixel &* 3 &+ 1])]
                        values[2 &* plane &+ pixel] = tables[512 &+ Int(rgb[pixel &* 3 &+ 2])]
                    }
                }
            }
        }
        return values
    }

    /// Decodes the PNG or JPEG at `path` (`ImageDecoder`) and returns its pixel values.
    /// - Throws: `MVLMError` from `ImageDecoder.decode(contentsOfFile:limits:)`.
    public func pixelValues(contentsOfFile path: String, limits: ImageLimits = .default) throws -> [Float] {
        pixelValues(try ImageDecoder.decode(contentsOfFile: path, limits: limits))
    }
}
