import Foundation
import MVLMCore
import MVLMImage
import MVLMModels
import MVLMNumPy

/// `--image FILE` / `--image-tensor FILE.npy`: the preprocessed pixels a vision encoder takes.
public enum ImageInput {
    /// The `[3, S, S]` pixel values from a float32 .npy (`tensor`) or an image file (`image`),
    /// preprocessed with the parameters stored with the model.
    public static func pixelValues(image: String?, tensor: String?, model: LanguageModel) throws -> [Float] {
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
        let preprocessor = c.preprocessor.isEmpty
            ? VisionConfiguration.defaultPreprocessor(size: c.imageSize) : c.preprocessor
        let parameters: ImagePreprocessing
        do {
            parameters = try ImagePreprocessing(preprocessorConfig: preprocessor, padToSquare: c.padToSquare)
        } catch let error as MVLMError {
            throw error.inFile("preprocessor_config")
        }
        let values = try ImagePreprocessor(parameters).pixelValues(contentsOfFile: image)
        guard values.count == expected.reduce(1, *) else {
            throw MVLMError(
                .invalidArgument,
                "preprocessing gives \(values.count) values but the vision tower takes \(Shape.describe(expected)): the preprocessor configuration does not match the tower",
                file: image)
        }
        return values
    }
}
