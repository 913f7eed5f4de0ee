import Foundation
import MVLMCore
import MVLMModels

/// `--image FILE` / `--image-tensor FILE.npy`: the preprocessed pixels a vision encoder takes.
enum ImageInput {
    /// The `[3, S, S]` pixel values from a float32 .npy (`tensor`) or an image file (`image`),
    /// preprocessed with the parameters stored with the model.
    static func pixelValues(image: String?, tensor: String?, model: LanguageModel) throws -> [Float] {
        let c = try model.requireVision().configuration
        let expected = [c.channels, c.imageSize, c.imageSize]
        if let tensor {
            let (shape, values) = try NumPyFile.readFloat32(path: tensor)
            let squeezed = shape.first == 1 && shape.count == 4 ? Array(shape.dropFirst()) : shape
            guard squeezed == expected else {
                throw MVLMError(
                    .invalidArgument,
                    "has shape \(Shape.describe(shape)); the vision tower takes \(Shape.describe(expected)) (channels, height, width), preprocessed",
                    file: tensor)
            }
            return values
        }
        guard let image else { preconditionFailure("an image or a tensor") }
        throw MVLMError(.unsupported, "image decoding is not available yet: pass --image-tensor", file: image)
    }
}
