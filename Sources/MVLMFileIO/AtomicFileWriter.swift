#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMCore

/// Writes a file so that the destination name holds either the old content or the complete new
/// content, never a partial file: data goes to a temporary file in the same directory, which is
/// fsynced and then renamed over the destination (and the directory fsynced).
///
/// Call `commit()` to publish; a writer that is discarded without `commit()` removes its temporary,
/// as does `discard()`, the process's exit, and (with `TemporaryFiles.removeOnSignals()`) SIGINT,
/// SIGTERM and SIGHUP.
///
/// What it refuses to replace (checked when created and again just before the rename):
/// - an existing destination that is not a regular file (a directory, device node, FIFO or
///   socket): renaming over `/dev/null` would replace the device node with a regular file;
/// - a destination that is one of this process's inputs (`InputFiles`: same device and inode,
///   whatever path, symlink or hard link reaches it).
/// A destination that is a symlink is followed: the file it points to is replaced (the temporary
/// file is made next to that file), and the link stays a link. A dangling symlink is refused.
public final class AtomicFileWriter {
    public let destination: String
    public let temporaryPath: String
    private var descriptor: Int32
    private var committed = false
    /// Bytes written so far.
    public private(set) var bytesWritten: Int = 0

    /// Creates the temporary file next to `destination`.
    /// - Throws: `MVLMError` (`.io`) when it cannot be created.
    public init(destination: String) throws {
        self.destination = destination
        let target = try AtomicFileWriter.resolveTarget(destination)
        self.target = target
        let directory: String
        if let slash = target.lastIndex(of: "/") {
            directory = String(target[..<slash]).isEmpty ? "/" : String(target[..<slash])
        } else {
            directory = "."
        }
        let name = target.split(separator: "/").last.map(String.init) ?? target
        var template = Array("\(directory)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw MVLMError(
                .io, "cannot create a temporary file in \(directory): \(MappedFile.errnoText())",
                file: destination)
        }
        self.descriptor = fd
        self.temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        TemporaryFiles.add(temporaryPath)
        fchmod(fd, 0o644)
    }

    /// The path actually replaced: `destination`, or the file a symlinked destination points to.
    public let target: String

    deinit {
        if !committed { discard() }
    }

    /// Removes the temporary file now (instead of at `deinit`); the writer cannot be used after.
    public func discard() {
        guard !committed else { return }
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
        TemporaryFiles.remove(temporaryPath)
    }

    /// The path to replace for `destination` (following a symlink), after checking that it is not
    /// an input and, if it exists, is a regular file.
    static func resolveTarget(_ destination: String) throws -> String {
        var target = destination
        var status = stat()
        if lstat(destination, &status) == 0, status.st_mode & S_IFMT == S_IFLNK {
            guard let resolved = realpath(destination, nil) else {
                throw MVLMError(
                    .invalidArgument,
                    "is a symbolic link to a missing file or folder; refusing to write through it",
                    file: destination)
            }
            target = String(cString: resolved)
            free(resolved)
        }
        try checkReplaceable(target, as: destination)
        return target
    }

    /// Throws when `target` exists and is not a regular file, or is one of the process's inputs.
    static func checkReplaceable(_ target: String, as destination: String) throws {
        var status = stat()
        guard stat(target, &status) == 0 else { return }  // nothing there yet
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw MVLMError(
                .invalidArgument,
                "is \(FileIdentity.kindName(mode: status.st_mode)), not a regular file; refusing to replace it",
                file: destination)
        }
        if let input = InputFiles.input(matching: FileIdentity(status)) {
            throw MVLMError(
                .invalidArgument,
                "is an input of this command (the same file as \(input)); refusing to overwrite it, "
                    + "choose another output path",
                file: destination)
        }
    }

    /// Appends bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var written = 0
        while written < bytes.count {
            let result = Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw MVLMError(.io, "write failed: \(MappedFile.errnoText())", file: destination)
            }
            written += result
        }
        bytesWritten += bytes.count
        startWriteback()
    }

    /// The file offset up to which writeback has been started (the next range starts here).
    private var writebackStart = 0
    /// Writeback is started every this many appended bytes.
    static let writebackInterval = 64 << 20

    /// Starts writing the last `writebackInterval` appended bytes to the disk in the background
    /// (`posix_fadvise(POSIX_FADV_DONTNEED)` queues asynchronous writeback of the range on Linux and
    /// drops its pages once clean). The final fsync then waits only for the tail, and the disk works
    /// while the caller computes the next bytes: a large output costs max(compute, disk) instead of
    /// their sum. Advisory only; failures are ignored (the fsync in ``commit()`` is what counts).
    private func startWriteback() {
        guard bytesWritten - writebackStart >= Self.writebackInterval else { return }
        _ = posix_fadvise(descriptor, off_t(writebackStart), off_t(bytesWritten - writebackStart), POSIX_FADV_DONTNEED)
        writebackStart = bytesWritten
    }

    /// Overwrites bytes at `offset` (which must lie within what was already written), for headers
    /// that are patched once the content is known. Does not move the append position.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        precondition(offset >= 0 && offset + bytes.count <= bytesWritten, "patch outside written data")
        var done = 0
        while done < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw MVLMError(.io, "write failed: \(MappedFile.errnoText())", file: destination)
            }
            done += result
        }
    }

    /// Cuts the temporary file back to `size` bytes (at most what was written) and moves the
    /// append position there, e.g. to replace a trailer after reviewing the written file.
    /// - Throws: `MVLMError` (`.io`) when the file cannot be truncated.
    public func truncate(to size: Int) throws {
        precondition(size >= 0 && size <= bytesWritten, "truncate outside written data")
        guard ftruncate(descriptor, off_t(size)) == 0, lseek(descriptor, off_t(size), SEEK_SET) == off_t(size) else {
            throw MVLMError(.io, "cannot truncate the temporary file: \(MappedFile.errnoText())", file: destination)
        }
        bytesWritten = size
    }

    /// Flushes the temporary file's data to disk without publishing it (so another reader of
    /// `temporaryPath` sees everything written).
    public func flush() throws {
        guard fsync(descriptor) == 0 else {
            throw MVLMError(.io, "fsync failed: \(MappedFile.errnoText())", file: destination)
        }
    }

    /// Appends `count` zero bytes (alignment padding).
    public func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        try [UInt8](repeating: 0, count: count).withUnsafeBytes { try write($0) }
    }

    /// Appends bytes.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Flushes to disk and renames the temporary file to the destination.
    public func commit() throws {
        guard !committed else { return }
        guard fsync(descriptor) == 0 else {
            throw MVLMError(.io, "fsync failed: \(MappedFile.errnoText())", file: destination)
        }
        close(descriptor)
        descriptor = -1
        // The destination may have changed since `init` (an input registered later, a FIFO made).
        try AtomicFileWriter.checkReplaceable(target, as: destination)
        guard rename(temporaryPath, target) == 0 else {
            throw MVLMError(.io, "cannot rename the temporary file into place: \(MappedFile.errnoText())", file: destination)
        }
        committed = true
        TemporaryFiles.remove(temporaryPath)
        let directory = target.lastIndex(of: "/").map { String(target[..<$0]) } ?? "."
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
