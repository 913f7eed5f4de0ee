#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// Every temporary file an `AtomicFileWriter` has not yet committed or discarded, removed when the
/// process ends without committing it: at `exit` (an error path that leaves a writer referenced by
/// a background queue) and, once `removeOnSignals()` has run, on SIGINT, SIGTERM and SIGHUP.
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        if !installed {
            installed = true
            atexit { TemporaryFiles.removeAll() }
        }
        paths.insert(path)
    }

    static func remove(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.remove(path)
    }

    /// The temporary files not yet committed or discarded (for tests).
    public static var pending: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return paths
    }

    /// Unlinks every registered temporary file.
    public static func removeAll() {
        lock.lock()
        defer { lock.unlock() }
        for path in paths { unlink(path) }
        paths.removeAll()
    }

    /// Makes SIGINT, SIGTERM and SIGHUP remove the registered temporary files and then end the
    /// process with the same signal (so the shell sees "killed by SIGINT"). The signals are
    /// handled on a dispatch queue, not in a signal handler, so the removal may take the lock the
    /// writers use. Call once, early in `main` (the `mvlm` binary does).
    public static func removeOnSignals() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                removeAll()
                signal(signalNumber, SIG_DFL)
                kill(getpid(), signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }
}
