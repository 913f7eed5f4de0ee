import MVLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only memory mapping of the HDF5 file, for zero-copy views of contiguous datasets.
///
/// MVLMHDF5 does not depend on MVLMFileIO (the package graph keeps format modules over C
/// libraries separate), so it keeps this small owner of its own: map on init, unmap in `deinit`.
/// Mapping reads nothing; pages load when a tensor's bytes are first touched.
final class HDF5FileMapping: @unchecked Sendable {
    /// The file's size in bytes.
    let count: Int
    private let base: UnsafeRawPointer?

    /// Maps `path` read-only.
    /// - Throws: `MVLMError` (`.io`) when the file cannot be opened, is not a regular file, or
    ///   cannot be mapped.
    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw MVLMError(.io, "cannot open: \(HDF5FileMapping.errnoText())", file: path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw MVLMError(.io, "cannot stat: \(HDF5FileMapping.errnoText())", file: path)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw MVLMError(.io, "not a regular file", file: path)
        }
        let size = Int(status.st_size)
        count = size
        guard size > 0 else {
            base = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw MVLMError(
                .io, "cannot map \(size) bytes: \(HDF5FileMapping.errnoText())", file: path)
        }
        base = UnsafeRawPointer(address)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Calls `body` with the whole mapping.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) {
            try body(UnsafeRawBufferPointer(start: base, count: count))
        }
    }

    /// Storage for bytes `range` of the file that shares the mapping, or `nil` when `range` is
    /// not inside the file.
    func storage(for range: Range<Int>) -> TensorStorage? {
        guard range.lowerBound >= 0, range.upperBound <= count else { return nil }
        return withUnsafeBytes { bytes in
            TensorStorage(borrowing: UnsafeRawBufferPointer(rebasing: bytes[range]), owner: self)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
