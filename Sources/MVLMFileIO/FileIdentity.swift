#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MVLMCore

/// A file as the kernel knows it: device and inode, the same through every symlink, hard link
/// and spelling of its path.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    /// The identity of what `path` names, following symlinks; nil when it does not exist.
    public init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        self.init(status)
    }

    /// The identity of an open descriptor; nil when `fstat` fails.
    public init?(descriptor: Int32) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        self.init(status)
    }

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }

    /// What kind of file a mode describes, for messages ("a FIFO", "a directory").
    static func kindName(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }

    /// Throws unless `path` names a regular file (after following symlinks), without opening it,
    /// so a FIFO cannot block and a device is never read: every input path goes through this.
    /// - Throws: `MVLMError` (`.io`) naming the path: missing, or what kind of file it is.
    public static func requireRegularFile(_ path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw MVLMError(.io, "cannot open: \(MappedFile.errnoText())", file: path)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw MVLMError(
                .io, "is \(kindName(mode: status.st_mode)), not a regular file", file: path)
        }
    }
}
