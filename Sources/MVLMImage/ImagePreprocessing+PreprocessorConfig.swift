import Foundation
import MVLMCore
import MVLMFileIO

extension ImagePreprocessing {
    /// The parameters a Hugging Face `preprocessor_config.json` gives (a `CLIPImageProcessor`),
    /// read as transformers reads them; keys that are absent take `CLIPImageProcessor`'s class
    /// defaults (shortest edge 224, crop 224, bicubic, OpenAI mean and std, 1/255, every step on).
    ///
    /// Keys: `do_resize`, `size` (an integer or `{"shortest_edge": n}`: the shorter side;
    /// `{"height": n, "width": n}`: a square), `resample` (Pillow code: 1 Lanczos, 2 bilinear,
    /// 3 bicubic, 4 box, 5 Hamming), `do_center_crop`, `crop_size` (an integer or
    /// `{"height": h, "width": w}`), `do_rescale`, `rescale_factor`, `do_normalize`, `image_mean`,
    /// `image_std` (three numbers, or one for all channels). Other keys are ignored.
    /// - Parameters:
    ///   - preprocessorConfig: the JSON object, e.g. decoded as `[String: MetadataValue]`.
    ///   - padToSquare: MobileVLM's `image_aspect_ratio == "pad"` from the model's config.json
    ///     (not part of the preprocessor config); pads with `int(mean * 255)`.
    /// - Throws: `MVLMError` (`.malformed`) naming the key for a value of the wrong type or out of
    ///   range, `.unsupported` for nearest-neighbour resampling, non-square `size` dictionaries or
    ///   `longest_edge`.
    public init(preprocessorConfig config: [String: MetadataValue], padToSquare: Bool) throws {
        let reader = ConfigReader(config: config)
        let doResize = try reader.bool("do_resize") ?? true
        var size = 224
        var resizeToSquare = false
        switch config["size"] {
        case nil, .null?:
            break
        case .object(let members)?:
            if members["longest_edge"] != nil || members["max_height"] != nil {
                throw reader.error(.unsupported, "size", "only {\"shortest_edge\": n}, {\"height\": n, \"width\": n} or an integer is supported, got \(MetadataValue.object(members).summary())")
            }
            if let shortest = members["shortest_edge"] {
                size = try reader.dimension(shortest, key: "size.shortest_edge")
            } else if let height = members["height"], let width = members["width"] {
                let height = try reader.dimension(height, key: "size.height")
                let width = try reader.dimension(width, key: "size.width")
                guard height == width else {
                    throw reader.error(.unsupported, "size", "a non-square resize to \(width)×\(height) is not supported (CLIP models use a square or a shortest edge)")
                }
                size = height
                resizeToSquare = true
            } else {
                throw reader.error(.malformed, "size", "expected \"shortest_edge\" or \"height\" and \"width\", got \(MetadataValue.object(members).summary())")
            }
        case let value?:
            // An integer: CLIP's get_size_dict(default_to_square=False) makes it the shortest edge.
            size = try reader.dimension(value, key: "size")
        }

        var resample = ResampleFilter.bicubic
        if let value = config["resample"], value != .null {
            guard let code = value.intValue else {
                throw reader.error(.malformed, "resample", "expected a Pillow resampling code (an integer), got \(value.summary())")
            }
            guard let filter = ResampleFilter(pillowCode: code) else {
                throw reader.error(
                    .unsupported, "resample",
                    "Pillow resampling code \(code) is not supported; use 1 (Lanczos), 2 (bilinear), 3 (bicubic), 4 (box) or 5 (Hamming)")
            }
            resample = filter
        }

        let doCenterCrop = try reader.bool("do_center_crop") ?? true
        var cropWidth = 224
        var cropHeight = 224
        switch config["crop_size"] {
        case nil, .null?:
            break
        case .object(let members)?:
            guard let height = members["height"], let width = members["width"] else {
                throw reader.error(.malformed, "crop_size", "expected \"height\" and \"width\", got \(MetadataValue.object(members).summary())")
            }
            cropHeight = try reader.dimension(height, key: "crop_size.height")
            cropWidth = try reader.dimension(width, key: "crop_size.width")
        case let value?:
            cropHeight = try reader.dimension(value, key: "crop_size")
            cropWidth = cropHeight
        }

        let doRescale = try reader.bool("do_rescale") ?? true
        var rescaleFactor = 1.0 / 255.0
        if let value = config["rescale_factor"], value != .null {
            guard let factor = value.doubleValue, factor.isFinite, factor > 0 else {
                throw reader.error(.malformed, "rescale_factor", "expected a positive number, got \(value.summary())")
            }
            rescaleFactor = factor
        }
        let doNormalize = try reader.bool("do_normalize") ?? true
        let mean = try reader.channels("image_mean") ?? Self.openAIMean
        let std = try reader.channels("image_std") ?? Self.openAIStd
        guard std.allSatisfy({ $0 != 0 }) else {
            throw reader.error(.malformed, "image_std", "a standard deviation of 0 divides by zero: \(std)")
        }

        self.init(
            doResize: doResize, size: size, resizeToSquare: resizeToSquare, resample: resample,
            doCenterCrop: doCenterCrop, cropWidth: cropWidth, cropHeight: cropHeight, padToSquare: padToSquare,
            doRescale: doRescale, rescaleFactor: rescaleFactor, doNormalize: doNormalize,
            imageMean: mean.map { Float($0) }, imageStd: std.map { Float($0) },
            padColor: Self.padColor(forMean: mean))
    }

    /// Reads the `preprocessor_config.json` at `path` (see `init(preprocessorConfig:padToSquare:)`).
    /// - Throws: `MVLMError` naming `path`: `.io` when unreadable, `.malformed` when not a JSON object.
    public init(preprocessorConfigFile path: String, padToSquare: Bool) throws {
        let file = try MappedFile(path: path)
        let data = file.withUnsafeBytes { Data($0) }
        let config: [String: MetadataValue]
        do {
            config = try JSONDecoder().decode([String: MetadataValue].self, from: data)
        } catch {
            throw MVLMError(.malformed, "not a JSON object: \(error)", file: path)
        }
        do {
            try self.init(preprocessorConfig: config, padToSquare: padToSquare)
        } catch var error as MVLMError {
            error.file = path  // the real path instead of the generic "preprocessor_config.json"
            throw error
        }
    }
}

/// Typed look-ups in a preprocessor config with errors that name the key.
private struct ConfigReader {
    let config: [String: MetadataValue]
    static let maxDimension = 16384

    func error(_ code: MVLMError.Code, _ key: String, _ message: String) -> MVLMError {
        MVLMError(code, message, file: "preprocessor_config.json", subject: "key '\(key)'")
    }

    func bool(_ key: String) throws -> Bool? {
        switch config[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let value?: throw error(.malformed, key, "expected true or false, got \(value.summary())")
        }
    }

    func dimension(_ value: MetadataValue, key: String) throws -> Int {
        guard let number = value.intValue, number > 0, number <= Self.maxDimension else {
            throw error(.malformed, key, "expected a whole number of pixels from 1 to \(Self.maxDimension), got \(value.summary())")
        }
        return number
    }

    /// Three numbers (R, G, B), or one number for all three.
    func channels(_ key: String) throws -> [Double]? {
        guard let value = config[key], value != .null else { return nil }
        if let single = value.doubleValue, single.isFinite { return [single, single, single] }
        guard let items = value.arrayValue, items.count == 3 else {
            throw error(.malformed, key, "expected three numbers (R, G, B), got \(value.summary())")
        }
        let numbers = items.compactMap { $0.doubleValue }.filter { $0.isFinite }
        guard numbers.count == 3 else {
            throw error(.malformed, key, "expected three finite numbers (R, G, B), got \(value.summary())")
        }
        return numbers
    }
}
