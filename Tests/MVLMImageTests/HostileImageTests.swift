import Foundation
import MVLMCompression
import MVLMCore
import MVLMImage
import MVLMTestSupport
import Testing

@Suite struct HostileImageTests {
    /// Every broken file is refused with the expected code and a message that says why; Pillow
    /// refuses all of them too (except the GIF, which it reads and we do not).
    @Test(arguments: ImageExpectations.shared.hostile)
    func brokenFileIsRefused(_ fixture: ImageExpectations.Hostile) throws {
        let path = ImageExpectations.path("hostile/" + fixture.file)
        let error = try #require(throws: MVLMError.self) { try ImageDecoder.decode(contentsOfFile: path) }
        #expect(error.code.rawValue == fixture.code, "\(fixture.file): \(error)")
        #expect(error.message.localizedCaseInsensitiveContains(fixture.keyword), "\(fixture.file): \(error)")
        #expect(error.file == path)
        #expect(fixture.pillow != nil || fixture.file.hasSuffix(".gif"))
    }

    @Test func emptyFileIsRefused() throws {
        let directory = try Fixtures.temporaryDirectory("mvlm-image")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("empty.png").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let error = try #require(throws: MVLMError.self) { try ImageDecoder.decode(contentsOfFile: path) }
        #expect(error.code == .truncated && error.message.contains("empty") && error.file == path)
    }

    @Test func missingFileIsAnIOError() throws {
        let error = try #require(throws: MVLMError.self) {
            try ImageDecoder.decode(contentsOfFile: "/nonexistent/mvlm/picture.png")
        }
        #expect(error.code == .io && error.file == "/nonexistent/mvlm/picture.png")
    }

    @Test func limitsAreChecked() throws {
        let small = ImageLimits(maxDimension: 100, maxPixels: 1 << 20)
        let wide = try #require(throws: MVLMError.self) {
            try ImageDecoder.decode(contentsOfFile: ImageExpectations.path("rgb_160x104.png"), limits: small)
        }
        #expect(wide.code == .unsupported && wide.message.contains("160×104") && wide.message.contains("maxDimension"))
        let few = ImageLimits(maxDimension: 1000, maxPixels: 5000)
        let many = try #require(throws: MVLMError.self) {
            try ImageDecoder.decode(contentsOfFile: ImageExpectations.path("baseline_420_97x61.jpg"), limits: few)
        }
        #expect(many.code == .unsupported && many.message.contains("maxPixels"))
        let scans = try #require(throws: MVLMError.self) {
            try ImageDecoder.decode(
                contentsOfFile: ImageExpectations.path("progressive_97x61.jpg"),
                limits: ImageLimits(maxDimension: 1000, maxPixels: 1 << 20, maxJPEGScans: 2))
        }
        #expect(scans.code == .unsupported && scans.message.contains("scans"), "\(scans)")
    }

    static let sweepFiles = [
        "rgb_160x104.png", "interlaced_rgba16_21x13.png", "palette4_trns_35x22.png",
        "baseline_420_97x61.jpg", "progressive_97x61.jpg", "cmyk_48x32.jpg", "gray_97x61.jpg",
    ]

    /// Every prefix of a valid file (in steps) is refused with an `MVLMError`, or, when only
    /// trailing chunks or markers are missing, decodes to the full image; nothing crashes.
    @Test(arguments: sweepFiles)
    func everyTruncationIsSafe(_ file: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ImageExpectations.path(file))))
        let full = try bytes.withUnsafeBytes { try ImageDecoder.decode(bytes: $0, name: file) }
        let step = max(1, bytes.count / 400)
        var refused = 0
        for length in stride(from: 0, to: bytes.count, by: step) {
            do {
                let image = try bytes[0..<length].withUnsafeBytes { try ImageDecoder.decode(bytes: $0, name: file) }
                #expect(image == full, "\(file) cut at \(length) of \(bytes.count) decoded to a different image")
            } catch let error as MVLMError {
                #expect(error.file == file)
                #expect([.truncated, .malformed].contains(error.code), "\(file) cut at \(length): \(error)")
                refused += 1
            }
        }
        #expect(refused > 0)
    }

    /// Random byte flips in valid files: each result is an image or an `MVLMError`, never a crash.
    @Test(arguments: sweepFiles)
    func corruptedBytesAreSafe(_ file: String) throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ImageExpectations.path(file))))
        var random = SeededRandom(seed: 0x1234_5678 ^ UInt64(file.utf8.count))
        var decoded = 0
        var refused = 0
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 6)) {
                // Mostly in the first 300 bytes (headers, tables), sometimes anywhere.
                let range = random.next() % 3 == 0 ? bytes.count : min(300, bytes.count)
                bytes[Int(random.next() % UInt64(range))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            }
            // PNG chunks carry CRCs that catch every flip; fix them so the flips reach libpng's
            // IHDR checks, unfiltering and inflating.
            if file.hasSuffix(".png") && random.next() % 4 != 0 { Self.repairChunkCRCs(&bytes) }
            do {
                let image = try bytes.withUnsafeBytes { try ImageDecoder.decode(bytes: $0, name: file) }
                #expect(image.rgb.count == image.width * image.height * 3)
                decoded += 1
            } catch is MVLMError {
                refused += 1
            }
        }
        print("corrupted \(file): \(decoded) decoded, \(refused) refused")
        #expect(decoded + refused == 150)
    }

    /// Rewrites the CRC of every whole chunk after the PNG signature (stops at a length that runs
    /// past the end).
    static func repairChunkCRCs(_ bytes: inout [UInt8]) {
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length <= bytes.count - offset - 12 else { return }
            let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(offset + 4)..<(offset + 8 + length)])) }
            let end = offset + 8 + length
            bytes[end] = UInt8(truncatingIfNeeded: crc >> 24)
            bytes[end + 1] = UInt8(truncatingIfNeeded: crc >> 16)
            bytes[end + 2] = UInt8(truncatingIfNeeded: crc >> 8)
            bytes[end + 3] = UInt8(truncatingIfNeeded: crc)
            offset = end + 4
        }
    }
}
