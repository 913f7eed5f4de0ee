#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Every temporary file an `AtomicFileWriter` has not yet committed or discarded, removed when the
/// process ends without committing it: at `exit` (an error path that leaves a writer referenced by
/// a background queue) and, once `removeOnSignals()` has run, on SIGINT, SIGTERM and SIGHUP.
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var handlingSignals = false
    nonisolated(unsafe) private static var interruptHandler: (@Sendable () -> Void)?

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
    /// process with the same signal (so the shell sees "killed by SIGINT").
    ///
    /// The three signals are blocked in the calling thread (and so in every thread it creates
    /// later) and taken by a dedicated thread with `sigwait`, so the removal runs as ordinary code
    /// (it may take the lock the writers use) and works whatever signal mask the process was
    /// started with. Call once, first thing in `main`, before other threads exist (the `mvlm`
    /// binary does). Child processes get the signals back unblocked (`HDF5WorkerProcess`).
    public static func removeOnSignals() {
        lock.lock()
        defer { lock.unlock() }
        guard !handlingSignals else { return }
        handlingSignals = true
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in handledSignals { sigaddset(&signals, signalNumber) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let waited = signals
        let waiter = Thread {
            var received: Int32 = 0
            var waited = waited
            while true {
                while sigwait(&waited, &received) != 0 {}
                // A command that takes Ctrl-C itself (mvlm chat: it stops the answer) handles SIGINT.
                lock.lock()
                let handler = received == SIGINT ? interruptHandler : nil
                lock.unlock()
                guard let handler else { break }
                handler()
            }
            removeAll()
            // Die of the same signal: default action, unblocked in this thread, sent to it.
            signal(received, SIG_DFL)
            var only = sigset_t()
            sigemptyset(&only)
            sigaddset(&only, received)
            pthread_sigmask(SIG_UNBLOCK, &only, nil)
            pthread_kill(pthread_self(), received)
        }
        waiter.name = "mvlm.signals"
        waiter.start()
    }

    /// Makes SIGINT call `handler` instead of ending the process (`nil` restores the default),
    /// for a command that gives Ctrl-C a meaning of its own and writes no file meanwhile (`mvlm
    /// chat` stops the answer being written). SIGTERM and SIGHUP still remove the files and end
    /// the process.
    /// - Returns: false when `removeOnSignals()` has not run in this process (the handler is then
    ///   not installed; the caller installs its own SIGINT handler).
    @discardableResult
    public static func setInterruptHandler(_ handler: (@Sendable () -> Void)?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        interruptHandler = handler
        return handlingSignals
    }

    /// The signals `removeOnSignals()` handles.
    public static let handledSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
}
