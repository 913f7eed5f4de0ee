#if canImport(Glibc)
import Glibc
#endif
import MVLMCore
import MVLMFileIO

/// What every command does first with the paths it was given to read.
///
/// A path that exists must be a regular file or a folder: a FIFO would block the command forever
/// and a device (`/dev/zero`) would never end, so both are refused before anything opens them.
/// A path that does not exist is left to the option (`--tokens` also takes `1,2,3`). Each input
/// is registered with `InputFiles` (a folder with every file in it), so that no output of the
/// command can replace it (`AtomicFileWriter` refuses).
enum InputPaths {
    /// Checks and registers `paths` (nil entries are options not given).
    /// - Throws: `MVLMError` (`.io`) naming the first path that is neither a file nor a folder.
    static func check(_ paths: [String?]) throws {
        for case let path? in paths {
            var status = stat()
            guard stat(path, &status) == 0 else { continue }
            let kind = status.st_mode & S_IFMT
            guard kind == S_IFREG || kind == S_IFDIR else {
                try FileIdentity.requireRegularFile(path)  // throws, naming what it is
                continue
            }
            InputFiles.register(path)
        }
    }
}
