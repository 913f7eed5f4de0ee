import CMVLMZlib

/// CRC-32 (the zip/PNG polynomial) through zlib's `crc32_z`.
public enum CRC32 {
    /// The CRC-32 of `bytes`, continuing from `initial` (0 for a fresh checksum).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return initial }
        return UInt32(crc32_z(UInt(initial), base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }
}
