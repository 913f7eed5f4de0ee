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

extension Zstd {
    /// Compresses `input` as one zstd frame (content size and checksum recorded), handing the
    /// compressed bytes to `output` in chunks, so a multi-GB input needs only a few MB of memory
    /// (the input itself may be a lazily read file mapping).
    public static func compressStream(
        _ input: UnsafeRawBufferPointer, level: Int32 = 3, output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let context = ZSTD_createCCtx() else { throw MVLMError(.io, "zstd: out of memory") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setPledgedSrcSize(context, UInt64(input.count))
        let chunk = ZSTD_CStreamOutSize()
        var buffer = [UInt8](repeating: 0, count: chunk)
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let (remaining, produced): (Int, Int) = try buffer.withUnsafeMutableBytes { destination in
                var outBuffer = ZSTD_outBuffer(dst: destination.baseAddress, size: chunk, pos: 0)
                let result = ZSTD_compressStream2(context, &outBuffer, &inBuffer, ZSTD_e_end)
                if ZSTD_isError(result) != 0 {
                    throw MVLMError(.io, "zstd compression failed: \(String(cString: ZSTD_getErrorName(result)))")
                }
                return (result, outBuffer.pos)
            }
            if produced > 0 { try buffer.withUnsafeBytes { try output(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            if remaining == 0 { break }
        }
    }

    /// Decompresses a stream of zstd frames, handing output to `output` in chunks and refusing to
    /// produce more than `maximumSize` bytes.
    /// - Throws: `MVLMError` (`.malformed`) for corrupt or truncated data (checksums are verified).
    public static func decompressStream(
        _ input: UnsafeRawBufferPointer, maximumSize: Int, output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let context = ZSTD_createDCtx() else { throw MVLMError(.io, "zstd: out of memory") }
        defer { ZSTD_freeDCtx(context) }
        let chunk = ZSTD_DStreamOutSize()
        var buffer = [UInt8](repeating: 0, count: chunk)
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var total = 0
        var lastResult = 0
        while inBuffer.pos < inBuffer.size || lastResult != 0 {
            let (result, produced): (Int, Int) = try buffer.withUnsafeMutableBytes { destination in
                var outBuffer = ZSTD_outBuffer(dst: destination.baseAddress, size: chunk, pos: 0)
                let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                if ZSTD_isError(result) != 0 {
                    throw MVLMError(.malformed, "zstd data is corrupt: \(String(cString: ZSTD_getErrorName(result)))")
                }
                return (result, outBuffer.pos)
            }
            lastResult = result
            total += produced
            guard total <= maximumSize else {
                throw MVLMError(.outOfBounds, "zstd data expands past the allowed \(maximumSize) bytes")
            }
            if produced > 0 { try buffer.withUnsafeBytes { try output(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            if produced == 0 && inBuffer.pos >= inBuffer.size && result != 0 {
                throw MVLMError(.truncated, "zstd data ends in the middle of a frame")
            }
        }
    }

    /// True when `bytes` start with the zstd frame magic number.
    public static func isFrame(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x28 && bytes[1] == 0xB5 && bytes[2] == 0x2F && bytes[3] == 0xFD
    }
}
