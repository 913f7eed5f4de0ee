import CMVLMZstd
import MVLMCore

/// zstd compression through libzstd (`ZSTD_compress`, `ZSTD_decompress`).
public enum Zstd {
    /// Compresses `bytes` at `level` (1...19; 3 is zstd's default) into one frame that records its
    /// content size and a content checksum (so corruption is detected on decompression).
    /// - Throws: `MVLMError` (`.io`) with zstd's own message when compression fails.
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32 = 3) throws -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var output = [UInt8](repeating: 0, count: bound)
        guard let context = ZSTD_createCCtx() else { throw MVLMError(.io, "zstd: out of memory") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
        let written = output.withUnsafeMutableBytes { destination in
            ZSTD_compress2(context, destination.baseAddress, bound, bytes.baseAddress, bytes.count)
        }
        if ZSTD_isError(written) != 0 {
            throw MVLMError(.io, "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses a single zstd frame whose content size is recorded in its header, refusing
    /// frames that declare more than `maximumSize` bytes.
    /// - Throws: `MVLMError` (`.malformed`) for a corrupt frame or an unknown/oversized content size.
    public static func decompress(_ bytes: UnsafeRawBufferPointer, maximumSize: Int) throws -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
        // ZSTD_CONTENTSIZE_UNKNOWN = (0ULL - 1), ZSTD_CONTENTSIZE_ERROR = (0ULL - 2)
        guard declared < UInt64.max - 1 else {
            throw MVLMError(.malformed, "not a zstd frame with a recorded content size")
        }
        guard declared <= UInt64(maximumSize) else {
            throw MVLMError(
                .outOfBounds, "zstd frame declares \(declared) bytes, more than the allowed \(maximumSize)")
        }
        let size = Int(declared)
        var output = [UInt8](repeating: 0, count: size)
        let produced = output.withUnsafeMutableBytes { destination in
            ZSTD_decompress(destination.baseAddress, size, bytes.baseAddress, bytes.count)
        }
        if ZSTD_isError(produced) != 0 {
            throw MVLMError(.malformed, "zstd data is corrupt: \(String(cString: ZSTD_getErrorName(produced)))")
        }
        guard produced == size else {
            throw MVLMError(.malformed, "zstd frame produced \(produced) bytes, header said \(size)")
        }
        return output
    }
}
