import MVLMCompression
import MVLMCore
import MVLMFileIO

/// The zstd-compressed distribution form of an `.mvlm` file (`.mvlm.zst`): one standard zstd frame
/// whose content is the exact mappable file, so `zstd -d` unpacks it too.
public enum ModelFilePacking {
    /// Compresses `source` (an .mvlm file, checked first: header, manifest, padding and every
    /// tensor's CRC-32, so a damaged file is never packed into one that verifies) into
    /// `destination`, streaming.
    public static func pack(_ source: String, to destination: String, level: Int32 = 9) throws {
        let failures = try ModelFileReader(path: source).verifyIntegrity()
        guard failures.isEmpty else {
            throw MVLMError(
                .malformed,
                "\(failures.count) tensor(s) fail their CRC-32 (\(failures.prefix(3).joined(separator: ", "))): refusing to pack a corrupt file",
                file: source)
        }
        let input = try MappedFile(path: source)
        let output = try AtomicFileWriter(destination: destination)
        try input.withUnsafeBytes { bytes in
            try Zstd.compressStream(bytes, level: level) { try output.write($0) }
        }
        try output.commit()
    }

    /// Unpacks `source` into `destination` and checks that the result is a valid .mvlm file whose
    /// tensors all match their checksums; nothing is left under `destination` otherwise.
    public static func unpack(_ source: String, to destination: String, maximumSize: Int = 1 << 40) throws {
        let input = try MappedFile(path: source)
        let output = try AtomicFileWriter(destination: destination)
        do {
            try input.withUnsafeBytes { bytes in
                guard Zstd.isFrame(bytes) else {
                    throw MVLMError(.malformed, "not a zstd-compressed .mvlm file", file: source)
                }
                try Zstd.decompressStream(bytes, maximumSize: maximumSize) { try output.write($0) }
            }
        } catch let error as MVLMError {
            throw error.inFile(source)
        }
        // Validate the temporary file before publishing it.
        let reader = try ModelFileReader(path: output.temporaryPath)
        let failures = reader.verifyIntegrity()
        guard failures.isEmpty else {
            throw MVLMError(.malformed, "unpacked file has corrupt tensors: \(failures.prefix(3).joined(separator: ", "))", file: source)
        }
        try output.commit()
    }
}
