import MVLMCore
import MVLMGraph
import MVLMRuntime

/// An image through the vision encoder: the tower's selected features and the projector's rows.
public struct ImageEncoding: Sendable {
    /// The selected hidden state without CLS, `[patches, tower width]`.
    public var visionFeatures: Activation
    /// The rows spliced into the prompt, `[imageTokenCount, hidden]`.
    public var imageFeatures: Activation
    /// Wall-clock seconds of the encoder (tower + projector).
    public var seconds: Double
}

extension LanguageModel {
    /// The id that marks an image in a MobileVLM prompt (`IMAGE_TOKEN_INDEX`); it contributes no
    /// embedding row itself: the image's rows take its place.
    public static let imageTokenID: Int32 = -200

    /// The vision parts, or an error that says why there are none.
    public func requireVision() throws -> MultimodalParts {
        if let multimodal { return multimodal }
        throw MVLMError(
            .unsupported,
            "this model has no vision encoder to take an image: \(visionProblem ?? "\(architecture) is a text-only architecture")")
    }

    /// Encodes one preprocessed image `pixels` (`[3, S, S]`, channel-major).
    /// - Throws: `MVLMError` when the model has no vision encoder or `pixels` has the wrong size.
    public func encodeImage(_ pixels: [Float], threads: Int = Interpreter.processorCount) throws -> ImageEncoding {
        let parts = try requireVision()
        let c = parts.configuration
        let shape = [c.channels, c.imageSize, c.imageSize]
        guard pixels.count == shape.reduce(1, *) else {
            throw MVLMError(
                .invalidArgument,
                "the image tensor has \(pixels.count) values; the vision tower takes \(Shape.describe(shape)) = \(shape.reduce(1, *))")
        }
        var interpreter = try Interpreter(graph: parts.vision, weights: weights, threads: threads)
        let start = GreedyGenerator.now()
        let outputs = try interpreter.run(
            ["pixel_values": .floats(Activation(shape: shape, values: pixels))], outputs: ["vision_features", "image_features"])
        return ImageEncoding(
            visionFeatures: outputs["vision_features"]!, imageFeatures: outputs["image_features"]!,
            seconds: GreedyGenerator.now() - start)
    }

    /// `ids` with each image marker (`imageTokenID`) repeated once per image row, so positions run
    /// over the spliced sequence.
    public func expandImageMarkers(_ ids: [Int32]) throws -> [Int32] {
        guard ids.contains(Self.imageTokenID) else { return ids }
        let count = try requireVision().configuration.imageTokenCount
        var expanded: [Int32] = []
        expanded.reserveCapacity(ids.count + count)
        for id in ids {
            if id == Self.imageTokenID {
                expanded.append(contentsOf: repeatElement(Self.imageTokenID, count: count))
            } else {
                expanded.append(id)
            }
        }
        return expanded
    }
}
