import CMVLMZlib
import MVLMCore

/// Raw DEFLATE decompression (as zip stores it, no zlib header) through zlib's `inflate`.
public enum Inflate {
    /// Decompresses `bytes`, which must produce exactly `expectedSize` bytes.
    /// - Throws: `MVLMError` (`.malformed`) for corrupt data or a size other than `expectedSize`.
    public static func raw(_ bytes: UnsafeRawBufferPointer, expectedSize: Int) throws -> [UInt8] {
        guard bytes.count <= Int(UInt32.max), expectedSize >= 0, expectedSize <= Int(UInt32.max) else {
            throw MVLMError(.unsupported, "deflate streams over 4 GiB are not supported")
        }
        var output = [UInt8](repeating: 0, count: expectedSize)
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw MVLMError(.io, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        let status: Int32 = output.withUnsafeMutableBytes { destination in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(bytes.count)
            stream.next_out = destination.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(expectedSize)
            return inflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == expectedSize else {
            throw MVLMError(
                .malformed,
                status == Z_STREAM_END
                    ? "deflate data produced \(stream.total_out) bytes, expected \(expectedSize)"
                    : "deflate data is corrupt or longer than the declared \(expectedSize) bytes (zlib status \(status))")
        }
        return output
    }
}
