/// The parameters of CLIP's image preprocessing as MobileVLM applies it (LLaVA's
/// `process_images`): optional padding to a square, resize, centre crop, rescale, normalize.
///
/// The steps, each with transformers' `CLIPImageProcessor` semantics (the PIL backend,
/// `CLIPImageProcessorPil` in transformers 5):
/// 1. `padToSquare` (`"image_aspect_ratio": "pad"` in the model's config.json): `expand2square`
///    with `padColor` (`tuple(int(x * 255) for x in image_mean)`).
/// 2. `doResize`: the shorter side to `size`, the longer to `Int(size * long / short)`
///    (truncated), or both sides to `size` when `resizeToSquare`; Pillow's `resample` filter on
///    8-bit RGB, bit-exact (`Image.resized(width:height:filter:passOrder:)`).
/// 3. `doCenterCrop`: `cropWidth` × `cropHeight` from the centre (`Image.centerCropped`).
/// 4. `doRescale`: `Float(Double(byte) * rescaleFactor)`.
/// 5. `doNormalize`: `(value - imageMean[c]) / imageStd[c]` in `Float`.
///
/// The output is channel-first `[3, height, width]` float32, `pixel_values[0]` of the Python
/// pipeline.
public struct ImagePreprocessing: Codable, Sendable, Hashable {
    public var doResize: Bool
    /// The shorter side after resizing (`size.shortest_edge`), or both sides when `resizeToSquare`.
    public var size: Int
    /// `size` was given as `{"height": n, "width": n}`: resize to a square, ignoring the aspect ratio.
    public var resizeToSquare: Bool
    public var resample: ResampleFilter
    /// Pillow 13's pass order or Pillow 12's (they differ only for images more than twice as tall
    /// as wide when not padding: with `padToSquare` both axes scale alike and both orders agree).
    public var resamplePassOrder: ResamplePassOrder
    public var doCenterCrop: Bool
    public var cropWidth: Int
    public var cropHeight: Int
    /// MobileVLM's `image_aspect_ratio == "pad"`.
    public var padToSquare: Bool
    /// The colour `expand2square` pads with.
    public var padColor: Image.RGB
    public var doRescale: Bool
    public var rescaleFactor: Double
    public var doNormalize: Bool
    /// Per channel (R, G, B).
    public var imageMean: [Float]
    /// Per channel (R, G, B).
    public var imageStd: [Float]

    /// OpenAI CLIP's normalization constants (transformers' `OPENAI_CLIP_MEAN`, `OPENAI_CLIP_STD`).
    public static let openAIMean: [Double] = [0.48145466, 0.4578275, 0.40821073]
    public static let openAIStd: [Double] = [0.26862954, 0.26130258, 0.27577711]

    /// MobileVLM's vision tower `openai/clip-vit-large-patch14-336` with `image_aspect_ratio`
    /// `"pad"`: pad with (122, 116, 104), bicubic to 336, crop 336, × 1/255, OpenAI mean and std.
    public static let clip336 = ImagePreprocessing(
        size: 336, cropWidth: 336, cropHeight: 336, padToSquare: true,
        imageMean: openAIMean.map { Float($0) }, imageStd: openAIStd.map { Float($0) },
        padColor: padColor(forMean: openAIMean))

    /// Parameters with transformers' CLIP defaults for everything not given.
    public init(
        doResize: Bool = true, size: Int, resizeToSquare: Bool = false, resample: ResampleFilter = .bicubic,
        resamplePassOrder: ResamplePassOrder = .pillow13, doCenterCrop: Bool = true, cropWidth: Int, cropHeight: Int, padToSquare: Bool,
        doRescale: Bool = true, rescaleFactor: Double = 1.0 / 255.0, doNormalize: Bool = true,
        imageMean: [Float], imageStd: [Float], padColor: Image.RGB? = nil
    ) {
        self.doResize = doResize
        self.size = size
        self.resizeToSquare = resizeToSquare
        self.resample = resample
        self.resamplePassOrder = resamplePassOrder
        self.doCenterCrop = doCenterCrop
        self.cropWidth = cropWidth
        self.cropHeight = cropHeight
        self.padToSquare = padToSquare
        self.padColor = padColor ?? Self.padColor(forMean: imageMean.map { Double($0) })
        self.doRescale = doRescale
        self.rescaleFactor = rescaleFactor
        self.doNormalize = doNormalize
        self.imageMean = imageMean
        self.imageStd = imageStd
    }

    /// `tuple(int(x * 255) for x in image_mean)`: each mean times 255 in `Double`, truncated and
    /// clamped to a byte.
    public static func padColor(forMean mean: [Double]) -> Image.RGB {
        func byte(_ index: Int) -> UInt8 {
            guard index < mean.count, mean[index].isFinite else { return 0 }
            return UInt8(clamping: Int(max(min(mean[index] * 255, 255), -1)))
        }
        return Image.RGB(red: byte(0), green: byte(1), blue: byte(2))
    }

    /// The (width, height) an image of `width` × `height` has after padding and resizing.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        var width = width
        var height = height
        if padToSquare {
            width = max(width, height)
            height = width
        }
        guard doResize else { return (width, height) }
        if resizeToSquare { return (size, size) }
        // transformers' get_resize_output_image_size(default_to_square=False).
        let short = min(width, height)
        let long = max(width, height)
        let newLong = Int(Double(size * long) / Double(short))
        return width <= height ? (size, newLong) : (newLong, size)
    }

    /// The shape `[3, height, width]` of the pixel values for an image of `width` × `height`.
    public func outputShape(width: Int, height: Int) -> [Int] {
        if doCenterCrop { return [3, cropHeight, cropWidth] }
        let resized = resizedSize(width: width, height: height)
        return [3, resized.height, resized.width]
    }
}
