#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMCore

/// A read-only memory mapping of a whole file, unmapped when the last reference goes away.
///
/// Mapping costs no reads: pages are loaded by the kernel when first touched, so a reader can list a
/// multi-GB checkpoint by touching its header only. Foundation's `Data(contentsOf:options:
/// .mappedIfSafe)` reads the whole file on Linux, hence this owner type over `mmap(2)`.
public final class MappedFile: @unchecked Sendable {
    /// The path as given by the caller (used in error messages).
    public let path: String
    /// The file's size in bytes.
    public let count: Int
    private let base: UnsafeRawPointer?
    /// The mapped file's device and inode, an input (`InputFiles`) while this mapping lives.
    private let identity: FileIdentity

    /// Maps the file at `path` read-only.
    /// - Throws: `MVLMError` (`.io`) when the file cannot be opened, is not a regular file, or
    ///   cannot be mapped.
    public init(path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw MVLMError(.io, "cannot open: \(MappedFile.errnoText())", file: path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw MVLMError(.io, "cannot stat: \(MappedFile.errnoText())", file: path)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw MVLMError(
                .io, "is \(FileIdentity.kindName(mode: status.st_mode)), not a regular file", file: path)
        }
        let identity = FileIdentity(status)
        self.identity = identity
        let size = Int(status.st_size)
        self.count = size
        if size == 0 {
            self.base = nil
            InputFiles.retain(identity, path)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw MVLMError(.io, "cannot map \(size) bytes: \(MappedFile.errnoText())", file: path)
        }
        self.base = UnsafeRawPointer(address)
        InputFiles.retain(identity, path)
    }

    deinit {
        InputFiles.release(identity)
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Calls `body` with the whole mapping.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) {
            try body(UnsafeRawBufferPointer(start: base, count: count))
        }
    }

    /// Storage for bytes `range` of the file, sharing the mapping (no copy).
    /// - Precondition: `range` lies within the file (callers check it first).
    public func storage(for range: Range<Int>) -> TensorStorage {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range outside mapping")
        return withUnsafeBytes { bytes in
            TensorStorage(borrowing: UnsafeRawBufferPointer(rebasing: bytes[range]), owner: self)
        }
    }

    /// Tells the kernel that `range` will be read sequentially soon (best effort).
    public func adviseWillNeed(_ range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        madvise(UnsafeMutableRawPointer(mutating: base + start), range.upperBound - start, MADV_WILLNEED)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Hints to the kernel about memory that lies in a file mapping.
public enum PageAdvice {
    /// Lets the kernel drop the resident pages of a borrowed (mapped) storage after it has been
    /// read, so that streaming through a file larger than memory keeps RSS bounded. The pages are
    /// re-read from the file if touched again. Does nothing for storage the process owns.
    public static func release(_ storage: TensorStorage) {
        release(storage, bytes: 0..<storage.count)
    }

    /// The same for the bytes `range` of a borrowed storage (whole pages inside it only).
    public static func release(_ storage: TensorStorage, bytes range: Range<Int>) {
        guard storage.isBorrowed, range.lowerBound >= 0, range.upperBound <= storage.count else { return }
        storage.withUnsafeBytes { all in
            let bytes = UnsafeRawBufferPointer(rebasing: all[range])
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = (Int(bitPattern: base) + page - 1) / page * page
            let end = (Int(bitPattern: base) + bytes.count) / page * page
            guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
            madvise(pointer, end - start, MADV_DONTNEED)
        }
    }
}
