#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MVLMCore

/// The files this process reads, so that no output replaces one of them.
///
/// `MappedFile` registers every file it maps while the mapping lives; commands register their
/// input paths for the rest of the process (a folder registers every file in it, recursively,
/// through symlinks), so files read without a mapping (`config.json`, `tokenizer.json`) are
/// covered too. `AtomicFileWriter` refuses a destination
/// whose device and inode are registered: `-o model.safetensors` while converting that folder,
/// or an output that is a hard link or symlink to an input, is an error, not a lost source.
public enum InputFiles {
    private static let lock = NSLock()
    /// Each identity with the first path it was registered under and how many holders it has.
    nonisolated(unsafe) private static var identities: [FileIdentity: (path: String, holders: Int)] = [:]

    /// Records `path` (a file, or a folder and every file below it) as an input.
    public static func register(_ path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        if status.st_mode & S_IFMT == S_IFDIR {
            retain(FileIdentity(status), path)
            let enumerator = FileManager.default.enumerator(atPath: path)
            var visited = 0
            while let relative = enumerator?.nextObject() as? String, visited < 100_000 {
                visited += 1
                let child = path.hasSuffix("/") ? path + relative : path + "/" + relative
                if let identity = FileIdentity(path: child) { retain(identity, child) }
            }
        } else {
            retain(FileIdentity(status), path)
        }
    }

    /// Registers one holder of `identity` (`MappedFile` while it maps the file).
    static func retain(_ identity: FileIdentity, _ path: String) {
        lock.lock()
        defer { lock.unlock() }
        let holders = identities[identity]?.holders ?? 0
        identities[identity] = (identities[identity]?.path ?? path, holders + 1)
    }

    /// Removes one holder of `identity`.
    static func release(_ identity: FileIdentity) {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = identities[identity] else { return }
        identities[identity] = entry.holders > 1 ? (entry.path, entry.holders - 1) : nil
    }

    /// The input path registered with this identity, if any.
    public static func input(matching identity: FileIdentity) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return identities[identity]?.path
    }
}
