import Foundation
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
    /// Seconds by part (`ProfilePart` raw values: products, attention, elementwise, projector),
    /// recorded when `MVLM_PROFILE=1`; empty otherwise.
    public var parts: [String: Double] = [:]
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

    /// Whether the vision encoder runs Q8_0 products with 8-bit activations; `MVLM_VISION_ACTIVATIONS=f32`
    /// keeps f32 activations (for comparisons).
    static let eightBitVisionActivations = ProcessInfo.processInfo.environment["MVLM_VISION_ACTIVATIONS"] != "f32"

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
        // The tower's and projector's Q8_0 products take 8-bit activations (integer GEMM); the
        // accuracy this costs is measured by `mvlm verify --image` (docs/vision.md).
        interpreter.eightBitActivations = Self.eightBitVisionActivations
        let start = GreedyGenerator.now()
        let outputs = try interpreter.run(
            ["pixel_values": .floats(Activation(shape: shape, values: pixels))], outputs: ["vision_features", "image_features"])
        return ImageEncoding(
            visionFeatures: outputs["vision_features"]!, imageFeatures: outputs["image_features"]!,
            seconds: GreedyGenerator.now() - start, parts: interpreter.lastRunParts)
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
