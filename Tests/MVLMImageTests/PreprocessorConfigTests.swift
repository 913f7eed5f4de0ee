import Foundation
import MVLMCore
import MVLMImage
import MVLMTestSupport
import Testing

@Suite struct PreprocessorConfigTests {
    static func config(_ json: String) throws -> [String: MetadataValue] {
        try JSONDecoder().decode([String: MetadataValue].self, from: Data(json.utf8))
    }

    /// openai/clip-vit-large-patch14-336's preprocessor_config.json (the old feature-extractor style).
    @Test func oldStyleCLIPConfig() throws {
        let config = try Self.config("""
            {"crop_size": 336, "do_center_crop": true, "do_normalize": true, "do_resize": true,
             "feature_extractor_type": "CLIPFeatureExtractor",
             "image_mean": [0.48145466, 0.4578275, 0.40821073],
             "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 336}
            """)
        #expect(try ImagePreprocessing(preprocessorConfig: config, padToSquare: true) == .clip336)
        var unpadded = ImagePreprocessing.clip336
        unpadded.padToSquare = false
        #expect(try ImagePreprocessing(preprocessorConfig: config, padToSquare: false) == unpadded)
    }

    @Test func newStyleCLIPConfig() throws {
        let config = try Self.config("""
            {"crop_size": {"height": 336, "width": 336}, "size": {"shortest_edge": 336},
             "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_convert_rgb": true,
             "image_mean": [0.48145466, 0.4578275, 0.40821073],
             "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3,
             "image_processor_type": "CLIPImageProcessor"}
            """)
        #expect(try ImagePreprocessing(preprocessorConfig: config, padToSquare: true) == .clip336)
    }

    @Test func absentKeysTakeCLIPImageProcessorDefaults() throws {
        let parameters = try ImagePreprocessing(preprocessorConfig: [:], padToSquare: false)
        #expect(parameters.size == 224 && parameters.cropWidth == 224 && parameters.cropHeight == 224)
        #expect(parameters.resample == .bicubic && parameters.doResize && parameters.doCenterCrop)
        #expect(parameters.doRescale && parameters.doNormalize && parameters.rescaleFactor == 1.0 / 255.0)
        #expect(parameters.imageMean == ImagePreprocessing.clip336.imageMean)
        #expect(parameters.padColor == Image.RGB(red: 122, green: 116, blue: 104))
    }

    @Test func squareSizeAndSingleMean() throws {
        let parameters = try ImagePreprocessing(
            preprocessorConfig: Self.config(#"{"size": {"height": 448, "width": 448}, "image_mean": 0.5, "image_std": [1, 2, 4]}"#),
            padToSquare: true)
        #expect(parameters.resizeToSquare && parameters.size == 448)
        #expect(parameters.imageMean == [0.5, 0.5, 0.5] && parameters.imageStd == [1, 2, 4])
        #expect(parameters.padColor == Image.RGB(red: 127, green: 127, blue: 127))
        #expect(parameters.resizedSize(width: 100, height: 30) == (448, 448))
    }

    static let invalid: [(String, MVLMError.Code, String)] = [
        (#"{"resample": 0}"#, .unsupported, "resample"),
        (#"{"resample": "bicubic"}"#, .malformed, "resample"),
        (#"{"size": {"height": 336, "width": 448}}"#, .unsupported, "size"),
        (#"{"size": {"shortest_edge": 336, "longest_edge": 500}}"#, .unsupported, "size"),
        (#"{"size": {"longest": 3}}"#, .malformed, "size"),
        (#"{"size": -4}"#, .malformed, "size"),
        (#"{"crop_size": "336"}"#, .malformed, "crop_size"),
        (#"{"crop_size": {"height": 336}}"#, .malformed, "crop_size"),
        (#"{"image_mean": [0.5, 0.5]}"#, .malformed, "image_mean"),
        (#"{"image_std": [0.5, 0, 0.5]}"#, .malformed, "image_std"),
        (#"{"do_resize": "yes"}"#, .malformed, "do_resize"),
        (#"{"rescale_factor": 0}"#, .malformed, "rescale_factor"),
    ]

    @Test(arguments: invalid.indices)
    func invalidConfigNamesTheKey(_ index: Int) throws {
        let (json, code, key) = Self.invalid[index]
        let error = try #require(throws: MVLMError.self) {
            try ImagePreprocessing(preprocessorConfig: Self.config(json), padToSquare: false)
        }
        #expect(error.code == code, "\(json): \(error)")
        #expect(error.subject?.contains(key) == true, "\(json): \(error)")
    }

    @Test func configFileIsRead() throws {
        let directory = try Fixtures.temporaryDirectory("mvlm-image")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("preprocessor_config.json").path
        try Data(#"{"size": 336, "crop_size": 336}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ImagePreprocessing(preprocessorConfigFile: path, padToSquare: true) == .clip336)
        try Data(#"{"size": 336, "crop_size": [1]}"#.utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: MVLMError.self) { try ImagePreprocessing(preprocessorConfigFile: path, padToSquare: true) }
        #expect(error.file == path && error.subject == "key 'crop_size'", "\(error)")
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: MVLMError.self) { try ImagePreprocessing(preprocessorConfigFile: path, padToSquare: true) }
    }

    @Test func codableRoundTrip() throws {
        var parameters = ImagePreprocessing.clip336
        parameters.resample = .lanczos
        parameters.cropHeight = 300
        let data = try JSONEncoder().encode(parameters)
        #expect(try JSONDecoder().decode(ImagePreprocessing.self, from: data) == parameters)
    }
}
