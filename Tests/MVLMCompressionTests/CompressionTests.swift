import MVLMCompression
import MVLMCore
import MVLMTestSupport
import Testing

@Suite("zstd and zlib wrappers")
struct CompressionTests {
    @Test("zstd round-trips and refuses corrupt or oversized frames")
    func zstd() throws {
        var random = SeededRandom(seed: 3)
        let data = (0..<100_000).map { _ in UInt8.random(in: 0...15, using: &random) }
        let packed = try data.withUnsafeBytes { try Zstd.compress($0, level: 3) }
        #expect(packed.count < data.count)
        let unpacked = try packed.withUnsafeBytes { try Zstd.decompress($0, maximumSize: 1 << 20) }
        let roundTrips = unpacked == data
        #expect(roundTrips)
        #expect(throws: MVLMError.self) { try packed.withUnsafeBytes { try Zstd.decompress($0, maximumSize: 1000) } }
        var corrupt = packed
        corrupt[corrupt.count / 2] ^= 0xFF
        corrupt[corrupt.count / 2 + 1] ^= 0xFF
        #expect(throws: MVLMError.self) { try corrupt.withUnsafeBytes { try Zstd.decompress($0, maximumSize: 1 << 20) } }
        #expect(throws: MVLMError.self) { try [UInt8](repeating: 7, count: 20).withUnsafeBytes { try Zstd.decompress($0, maximumSize: 1 << 20) } }
    }

    @Test("CRC-32 matches the standard check value and continues across chunks")
    func crc() {
        let text = Array("123456789".utf8)
        #expect(text.withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        let first = text[0..<4].withUnsafeBytes { CRC32.checksum($0) }
        #expect(text[4...].withUnsafeBytes { CRC32.checksum($0, initial: first) } == 0xCBF4_3926)
    }

    @Test("raw inflate of a stored-block stream, and errors for corrupt input")
    func inflate() throws {
        // A raw DEFLATE stream with one final stored block holding "hello".
        let stream: [UInt8] = [0x01, 0x05, 0x00, 0xFA, 0xFF] + Array("hello".utf8)
        #expect(try stream.withUnsafeBytes { try Inflate.raw($0, expectedSize: 5) } == Array("hello".utf8))
        #expect(throws: MVLMError.self) { try stream.withUnsafeBytes { try Inflate.raw($0, expectedSize: 6) } }
        #expect(throws: MVLMError.self) { try [UInt8](repeating: 0xFF, count: 8).withUnsafeBytes { try Inflate.raw($0, expectedSize: 5) } }
    }
}
