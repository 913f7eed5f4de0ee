import Foundation
import MVLMCore
import MVLMImage
import MVLMTestSupport
import Testing

@Suite struct PreprocessingTests {
    static func parameters(_ fixture: ImageExpectations.Clip) throws -> ImagePreprocessing {
        try ImagePreprocessing(preprocessorConfig: fixture.config, padToSquare: fixture.pad)
    }

    /// MobileVLM's pipeline (decode, expand2square, CLIPImageProcessor) from the file: within 1e-2
    /// of transformers' PIL-based CLIPImageProcessor per value (measured: identical floats).
    @Test(arguments: ImageExpectations.shared.clip)
    func pixelValuesMatchCLIPImageProcessor(_ fixture: ImageExpectations.Clip) throws {
        let parameters = try Self.parameters(fixture)
        let oracle = try NumPyArray.fixture("clip/" + fixture.npy, npyBytes: fixture.npyBytes)
        let expected = try #require(oracle.floats)
        #expect(oracle.shape == fixture.shape)
        let image = try ImageDecoder.decode(contentsOfFile: ImageExpectations.path(fixture.file))
        #expect(parameters.outputShape(width: image.width, height: image.height) == fixture.shape)
        let values = try ImagePreprocessor(parameters).pixelValues(contentsOfFile: ImageExpectations.path(fixture.file))
        let difference = try #require(maxAbsoluteDifference(values, expected))
        let unequal = zip(values, expected).filter { $0 != $1 }.count
        print("CLIP \(fixture.npy): max |difference| \(difference), \(unequal) of \(expected.count) values not bit-identical")
        #expect(difference <= 1e-2)
    }

    /// The same from Pillow's decoded bytes, isolating preprocessing from decoding: bit-identical.
    @Test(arguments: ImageExpectations.shared.clip)
    func pixelValuesFromPillowBytesAreIdentical(_ fixture: ImageExpectations.Clip) throws {
        let parameters = try Self.parameters(fixture)
        let expected = try #require(try NumPyArray.fixture("clip/" + fixture.npy, npyBytes: fixture.npyBytes).floats)
        let values = ImagePreprocessor(parameters).pixelValues(try ImageExpectations.pillowImage(fixture.file))
        #expect(values.count == expected.count)
        #expect(values == expected, "max |difference| \(maxAbsoluteDifference(values, expected) ?? .infinity)")
    }

    @Test func clip336IsMobileVLMs() throws {
        let clip = ImagePreprocessing.clip336
        #expect(clip.size == 336 && clip.cropWidth == 336 && clip.cropHeight == 336 && clip.padToSquare)
        #expect(clip.resample == .bicubic && !clip.resizeToSquare)
        #expect(clip.padColor == Image.RGB(red: 122, green: 116, blue: 104))
        #expect(clip.rescaleFactor == 1.0 / 255.0)
        #expect(clip.imageMean == [0.48145466, 0.4578275, 0.40821073])
        #expect(clip.imageStd == [0.26862954, 0.26130258, 0.27577711])
        // The oracle's configuration parses to exactly these parameters.
        let fixture = try #require(ImageExpectations.shared.clip.first { $0.pad })
        #expect(try Self.parameters(fixture) == clip)
        #expect(fixture.background == [122, 116, 104])
        #expect(clip.outputShape(width: 1000, height: 700) == [3, 336, 336])
    }

    @Test func alreadySquareInputIsNotResampled() {
        // 336×336 in: no padding, no resampling, no crop; values are the normalized bytes.
        var bytes = [UInt8](repeating: 0, count: 336 * 336 * 3)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 7 &+ index / 1000) }
        let image = Image(width: 336, height: 336, rgb: bytes)
        let preprocessor = ImagePreprocessor(.clip336)
        #expect(preprocessor.preparedImage(image) == image)
        let values = preprocessor.pixelValues(image)
        let plane = 336 * 336
        for pixel in [0, 1, 5000, plane - 1] {
            for channel in 0..<3 {
                let byte = bytes[pixel * 3 + channel]
                let expected = (Float(Double(byte) * (1.0 / 255.0)) - ImagePreprocessing.clip336.imageMean[channel])
                    / ImagePreprocessing.clip336.imageStd[channel]
                #expect(values[channel * plane + pixel] == expected)
            }
        }
    }

    @Test func brokenFileThrows() throws {
        let path = ImageExpectations.path("hostile/truncated_data.png")
        let error = try #require(throws: MVLMError.self) { try ImagePreprocessor(.clip336).pixelValues(contentsOfFile: path) }
        #expect(error.code == .truncated && error.file == path)
    }

    @Test func resizedSizeFollowsTransformers() {
        var parameters = ImagePreprocessing.clip336
        parameters.padToSquare = false
        // get_resize_output_image_size(default_to_square=False): int(336 * long / short).
        #expect(parameters.resizedSize(width: 1000, height: 700) == (480, 336))
        #expect(parameters.resizedSize(width: 130, height: 200) == (336, 516))
        #expect(parameters.resizedSize(width: 333, height: 1000) == (336, 1009))
        parameters.padToSquare = true
        #expect(parameters.resizedSize(width: 1000, height: 700) == (336, 336))
    }

    /// Informational: preprocessing time for a 1000×700 image in this (usually debug) build.
    @Test func timing() {
        var random = SeededRandom(seed: 3)
        let bytes = (0..<(1000 * 700 * 3)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let image = Image(width: 1000, height: 700, rgb: bytes)
        let preprocessor = ImagePreprocessor(.clip336)
        let clock = ContinuousClock()
        _ = preprocessor.pixelValues(image)
        let elapsed = clock.measure { _ = preprocessor.pixelValues(image) }
        print("CLIP-336 preprocessing of 1000×700: \(elapsed)")
    }
}
