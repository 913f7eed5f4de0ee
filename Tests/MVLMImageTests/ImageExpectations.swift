import Foundation
import MVLMCore
import MVLMImage
import MVLMTestSupport
import Testing

/// `Tests/Fixtures/image/expected.json`, written by `Tests/Fixtures/gen_image.py` from Pillow and
/// transformers.
struct ImageExpectations: Decodable, Sendable {
    struct Decode: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var pillowMode: String
        var width: Int
        var height: Int
        var testDescription: String { "\(file) (Pillow mode \(pillowMode))" }
        var isJPEG: Bool { file.hasSuffix(".jpg") }
        enum CodingKeys: String, CodingKey { case file, pillowMode = "pillow_mode", width, height }
    }

    struct Resize: Decodable, Sendable, CustomTestStringConvertible {
        var source: String
        var filter: String
        var width: Int
        var height: Int
        var npy: String
        /// `ResamplePassOrder`'s raw value the oracle was made with.
        var order: String
        var testDescription: String { "\(filter) \(width)×\(height) (\(order))" }
    }

    struct Clip: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var pad: Bool
        var config: [String: MetadataValue]
        var npy: String
        var npyBytes: Int
        var shape: [Int]
        var background: [Int]?
        var testDescription: String { npy }
        enum CodingKeys: String, CodingKey { case file, pad, config, npy, npyBytes = "npy_bytes", shape, background }
    }

    struct Hostile: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var code: String
        var keyword: String
        /// Pillow's exception for the same bytes, or nil when Pillow decodes them.
        var pillow: String?
        var testDescription: String { file }
    }

    var decode: [Decode]
    var resize: [Resize]
    var clip: [Clip]
    var hostile: [Hostile]
    var versions: [String: String]

    static let shared: ImageExpectations = {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("image/expected.json")))
            return try JSONDecoder().decode(ImageExpectations.self, from: data)
        } catch {
            // The count test below fails loudly instead of parametrized tests running no case.
            return ImageExpectations(decode: [], resize: [], clip: [], hostile: [], versions: ["error": "\(error)"])
        }
    }()

    static func path(_ file: String) -> String { Fixtures.path("image/" + file) }

    /// Pillow's decoded RGB of a fixture, as an `Image`.
    static func pillowImage(_ file: String) throws -> Image {
        let array = try NumPyArray.fixture("decoded/\(file).npy")
        let bytes = try #require(array.bytes)
        try #require(array.shape.count == 3 && array.shape[2] == 3)
        return Image(width: array.shape[1], height: array.shape[0], rgb: bytes)
    }
}

/// The largest per-byte difference and how many bytes differ.
func byteDifference(_ a: [UInt8], _ b: [UInt8]) -> (max: Int, count: Int) {
    precondition(a.count == b.count)
    var worst = 0
    var count = 0
    for index in a.indices where a[index] != b[index] {
        worst = max(worst, abs(Int(a[index]) - Int(b[index])))
        count += 1
    }
    return (worst, count)
}

@Suite struct ImageFixtureTests {
    @Test func fixturesLoad() {
        let expected = ImageExpectations.shared
        #expect(expected.versions["error"] == nil, "expected.json: \(expected.versions)")
        #expect(expected.decode.count >= 20)
        #expect(expected.resize.count >= 10)
        #expect(expected.clip.count >= 2)
        #expect(expected.hostile.count >= 10)
    }
}
