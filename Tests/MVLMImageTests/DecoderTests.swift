import Foundation
import MVLMCore
import MVLMImage
import MVLMTestSupport
import Testing

@Suite struct DecoderTests {
    static let pngCases = ImageExpectations.shared.decode.filter { !$0.isJPEG }
    static let jpegCases = ImageExpectations.shared.decode.filter { $0.isJPEG }

    /// libpng's bytes equal Pillow's `Image.open(f).convert("RGB")` exactly, for every colour
    /// type, bit depth, palette, tRNS and interlacing variant.
    @Test(arguments: pngCases)
    func pngMatchesPillowExactly(_ fixture: ImageExpectations.Decode) throws {
        let decoded = try ImageDecoder.decode(contentsOfFile: ImageExpectations.path(fixture.file))
        let pillow = try ImageExpectations.pillowImage(fixture.file)
        #expect(decoded.width == fixture.width && decoded.height == fixture.height)
        let difference = byteDifference(decoded.rgb, pillow.rgb)
        #expect(difference.count == 0, "\(fixture.file): \(difference.count) bytes differ, by up to \(difference.max)")
    }

    /// libjpeg-turbo (the system's) against Pillow's bundled libjpeg-turbo: within 1 per channel;
    /// the measured difference is printed (it is 0 with 2.1.5 against 3.2.0).
    @Test(arguments: jpegCases)
    func jpegMatchesPillow(_ fixture: ImageExpectations.Decode) throws {
        let decoded = try ImageDecoder.decode(contentsOfFile: ImageExpectations.path(fixture.file))
        let pillow = try ImageExpectations.pillowImage(fixture.file)
        #expect(decoded.width == fixture.width && decoded.height == fixture.height)
        let difference = byteDifference(decoded.rgb, pillow.rgb)
        print("JPEG \(fixture.file) (\(fixture.pillowMode)): \(difference.count) of \(pillow.rgb.count) bytes differ from Pillow, max \(difference.max)")
        #expect(difference.max <= 1, "\(fixture.file): differs from Pillow by up to \(difference.max)")
    }

    @Test func formatIsDetectedByContentNotExtension() throws {
        let directory = try Fixtures.temporaryDirectory("mvlm-image")
        defer { try? FileManager.default.removeItem(at: directory) }
        let disguisedPNG = directory.appendingPathComponent("photo.jpg").path
        let disguisedJPEG = directory.appendingPathComponent("picture.png").path
        try FileManager.default.copyItem(atPath: ImageExpectations.path("rgb_160x104.png"), toPath: disguisedPNG)
        try FileManager.default.copyItem(atPath: ImageExpectations.path("baseline_444_97x61.jpg"), toPath: disguisedJPEG)
        #expect(try ImageDecoder.decode(contentsOfFile: disguisedPNG) == ImageExpectations.pillowImage("rgb_160x104.png"))
        let jpeg = try ImageDecoder.decode(contentsOfFile: disguisedJPEG)
        #expect(jpeg.width == 97 && jpeg.height == 61)
    }

    @Test func detectsSignatures() {
        func format(_ bytes: [UInt8]) -> ImageFormat? { bytes.withUnsafeBytes { ImageFormat.detect($0) } }
        #expect(format([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(format([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A]) == nil)
        #expect(format([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(format([0xFF, 0xD8]) == nil)
        #expect(format(Array("GIF89a".utf8)) == .gif)
        #expect(format(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == .webp)
        #expect(format([]) == nil)
    }

    @Test func alphaIsDroppedNotComposited() throws {
        // rgba_48x32.png has alpha 0 in its top-left 8×8 corner: the stored colour survives
        // (compositing onto white, as transformers' convert_to_rgb does, would give 255s).
        let decoded = try ImageDecoder.decode(contentsOfFile: ImageExpectations.path("rgba_48x32.png"))
        let pillow = try ImageExpectations.pillowImage("rgba_48x32.png")
        #expect(decoded[5, 5] == pillow[5, 5])
        #expect(decoded[5, 5] != Image.RGB(red: 255, green: 255, blue: 255))
    }

    @Test func sixteenBitGrayClipsLikePillow() throws {
        // Pillow's I;16 → RGB clips at 255 instead of keeping the high byte.
        let decoded = try ImageDecoder.decode(contentsOfFile: ImageExpectations.path("gray16_40x28.png"))
        #expect(decoded[10, 0] == Image.RGB(red: 60, green: 60, blue: 60))  // stored 60, below 256
        #expect(decoded[39, 27] == Image.RGB(red: 255, green: 255, blue: 255))
    }
}
