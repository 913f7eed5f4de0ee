import CMVLMZlib
import MVLMCore

/// Raw DEFLATE decompression (as zip stores it, no zlib header) through zlib's `inflate`.
public enum Inflate {
    /// Decompresses `bytes`, which must produce exactly `expectedSize` bytes.
    ///
    /// The output grows as zlib produces it (at most doubling, from 1 MiB), so memory follows the
    /// bytes that really come out, never the declared size alone.
    /// - Throws: `MVLMError` (`.malformed`) for corrupt data or a size other than `expectedSize`.
    public static func raw(_ bytes: UnsafeRawBufferPointer, expectedSize: Int) throws -> [UInt8] {
        guard bytes.count <= Int(UInt32.max), expectedSize >= 0, expectedSize <= Int(UInt32.max) else {
            throw MVLMError(.unsupported, "deflate streams over 4 GiB are not supported")
        }
        var output: [UInt8] = []
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw MVLMError(.io, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        var status = Z_OK
        var produced = 0
        while status == Z_OK {
            // One byte past the declared size, so that a longer stream is caught.
            let wanted = min(max(produced, 1 << 20), expectedSize + 1 - produced)
            output.append(contentsOf: repeatElement(0, count: wanted))
            status = output.withUnsafeMutableBytes { destination in
                stream.next_out = (destination.baseAddress! + produced).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(wanted)
                return inflate(&stream, Z_NO_FLUSH)
            }
            produced = Int(stream.total_out)
            if status == Z_OK, stream.avail_out != 0, stream.avail_in == 0 { status = Z_BUF_ERROR }
            if produced > expectedSize { break }
        }
        guard status == Z_STREAM_END, produced == expectedSize else {
            throw MVLMError(
                .malformed,
                status == Z_STREAM_END
                    ? "deflate data produced \(stream.total_out) bytes, expected \(expectedSize)"
                    : "deflate data is corrupt or longer than the declared \(expectedSize) bytes (zlib status \(status))")
        }
        output.removeLast(output.count - produced)
        return output
    }
}
