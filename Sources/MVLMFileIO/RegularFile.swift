#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMCore

/// Whole-file reads of small inputs (config.json, token lists, text) that refuse anything but a
/// regular file: a FIFO is opened without blocking and refused, a device is never read
/// (`/dev/zero` would never end), and the size is bounded.
public enum RegularFile {
    /// The default bound for `read(_:limit:)`: 1 GiB.
    public static let defaultLimit = 1 << 30

    /// The file's bytes.
    /// - Throws: `MVLMError` naming the file: `.io` when it cannot be opened or is not a regular
    ///   file (naming what it is), `.outOfBounds` when it holds more than `limit` bytes.
    public static func read(_ path: String, limit: Int = defaultLimit) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw MVLMError(.io, "cannot open: \(MappedFile.errnoText())", file: path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw MVLMError(.io, "cannot stat: \(MappedFile.errnoText())", file: path)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw MVLMError(
                .io, "is \(FileIdentity.kindName(mode: status.st_mode)), not a regular file", file: path)
        }
        let size = Int(status.st_size)
        guard size <= limit else {
            throw MVLMError(.outOfBounds, "holds \(size) bytes, more than the \(limit) accepted", file: path)
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + done, size - done) }
            if count < 0 {
                if errno == EINTR { continue }
                throw MVLMError(.io, "read failed: \(MappedFile.errnoText())", file: path)
            }
            if count == 0 { break }  // shrank while reading
            done += count
        }
        return Array(bytes[..<done])
    }

    /// The file's text, decoded as UTF-8 (invalid sequences refused).
    /// - Throws: as `read(_:limit:)`, and `.malformed` when the bytes are not UTF-8.
    public static func readText(_ path: String, limit: Int = defaultLimit) throws -> String {
        let bytes = try read(path, limit: limit)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MVLMError(.malformed, "is not UTF-8 text", file: path)
        }
        return text
    }
}
