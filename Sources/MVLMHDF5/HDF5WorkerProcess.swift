#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MVLMCore

/// Runs one `HDF5Worker` request in a child process and turns every way it can end into either
/// its output or an `MVLMError` naming the file.
///
/// The worker executable is, in this order: the environment variable `MVLM_HDF5_WORKER`;
/// `HDF5Reader.workerExecutable` (the `mvlm` binary sets it to itself at start-up); `mvlm` in
/// the directory of the running executable or up to three directories above it (how tests and
/// other programs built in the same SwiftPM build directory find it). The executable must hand
/// the arguments after `__hdf5-worker` to `HDF5Worker.run(_:)`.
///
/// The child's standard input is `/dev/null`; standard output and standard error are pipes read
/// concurrently. It is killed (SIGKILL) when it writes nothing for `inactivityTimeout` seconds
/// (`MVLM_HDF5_WORKER_TIMEOUT` overrides the default of 30) plus, for a data read, one second per
/// 16 MiB it must decode (`H5Dread` finishes before the first byte is written), or when its
/// output exceeds what the caller expects.
enum HDF5WorkerProcess {
    static let defaultInactivityTimeout = 30.0

    /// How the worker ended.
    enum Outcome {
        case exited(Int32)
        case signaled(Int32)
    }

    /// Finds the worker executable.
    static func executable(file: String) throws -> String {
        if let path = ProcessInfo.processInfo.environment["MVLM_HDF5_WORKER"], !path.isEmpty {
            return path
        }
        if let path = HDF5Reader.workerExecutable { return path }
        if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            ?? CommandLine.arguments.first
        {
            var directory = URL(fileURLWithPath: running).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("mvlm").path
                if access(candidate, X_OK) == 0 { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        throw MVLMError(
            .notFound,
            "HDF5 files are read by a worker process (libhdf5 is isolated from hostile files) and "
                + "its executable was not found: set MVLM_HDF5_WORKER to the mvlm binary",
            file: file)
    }

    static var inactivityTimeout: Double {
        if let text = ProcessInfo.processInfo.environment["MVLM_HDF5_WORKER_TIMEOUT"],
            let value = Double(text), value > 0
        {
            return value
        }
        return defaultInactivityTimeout
    }

    /// Runs the worker with `arguments` (after `__hdf5-worker`), passing what it writes on
    /// standard output to `output` chunk by chunk, and returns how it ended and (up to 64 KiB of)
    /// its standard error.
    /// - Throws: `MVLMError` naming `file` when the worker cannot start, falls silent for longer
    ///   than the timeout (it is killed), or when `output` throws (it is killed).
    static func run(
        _ arguments: [String], file: String, extraSeconds: Double = 0,
        output: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (outcome: Outcome, standardError: [UInt8]) {
        let executable = try executable(file: file)
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard makePipe(&outPipe) else {
            throw MVLMError(.io, "cannot create a pipe for the HDF5 worker: \(errnoText())", file: file)
        }
        guard makePipe(&errPipe) else {
            close(outPipe[0])
            close(outPipe[1])
            throw MVLMError(.io, "cannot create a pipe for the HDF5 worker: \(errnoText())", file: file)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv = [executable, HDF5Worker.commandName] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        // A crash is expected and reported by the parent: no Swift backtrace (it takes time).
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in cEnvironment { free(pointer) } }
        // Signals the parent blocks or ignores (mvlm takes SIGINT/SIGTERM/SIGHUP with sigwait) get
        // their default action and an empty mask in the worker, so Ctrl-C ends it too.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signalNumber) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = cArguments.withUnsafeMutableBufferPointer { arguments in
            cEnvironment.withUnsafeMutableBufferPointer { environment in
                posix_spawn(&pid, executable, &actions, &attributes, arguments.baseAddress!, environment.baseAddress!)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        defer {
            close(outPipe[0])
            close(errPipe[0])
        }
        guard spawned == 0 else {
            throw MVLMError(
                .io,
                "cannot start the HDF5 worker \(executable): \(String(cString: strerror(spawned)))",
                file: file)
        }
        var standardError: [UInt8] = []
        do {
            try pump(
                output: outPipe[0], error: errPipe[0], pid: pid, file: file,
                timeout: inactivityTimeout + extraSeconds,
                onOutput: output, standardError: &standardError)
        } catch {
            kill(pid, SIGKILL)
            _ = wait(for: pid)
            throw error
        }
        return (wait(for: pid), standardError)
    }

    /// Reads both pipes until both close; a silence longer than the timeout is an error.
    private static func pump(
        output: Int32, error: Int32, pid: pid_t, file: String, timeout: Double,
        onOutput: (UnsafeRawBufferPointer) throws -> Void, standardError: inout [UInt8]
    ) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var open = [output, error]
        while !open.isEmpty {
            var descriptors = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(min(timeout * 1000, 2e9)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw MVLMError(.io, "cannot wait for the HDF5 worker: \(errnoText())", file: file)
            }
            if ready == 0 {
                throw MVLMError(
                    .malformed,
                    "libhdf5 did not finish reading the file within \(Int(timeout)) s "
                        + "(killed the HDF5 worker; MVLM_HDF5_WORKER_TIMEOUT sets the limit)",
                    file: file)
            }
            for entry in descriptors where entry.revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress!, $0.count) }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw MVLMError(.io, "cannot read from the HDF5 worker: \(errnoText())", file: file)
                }
                if count == 0 {
                    open.removeAll { $0 == entry.fd }
                } else if entry.fd == output {
                    try chunk.withUnsafeBytes { try onOutput(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                } else if standardError.count < 1 << 16 {
                    standardError += chunk[..<min(count, (1 << 16) - standardError.count)]
                }
            }
        }
    }

    /// A pipe whose ends close on exec (the child gets them only through `dup2`).
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    private static func wait(for pid: pid_t) -> Outcome {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(-1) }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// An error for a worker that did not end with status 0 or 1.
    static func failure(_ outcome: Outcome, file: String, subject: String? = nil) -> MVLMError {
        switch outcome {
        case .signaled(let signal):
            let name = String(cString: strsignal(signal))
            return MVLMError(
                .malformed,
                "libhdf5 crashed reading this file (the HDF5 worker died of signal \(signal), "
                    + "\(name)); the file is corrupt or hostile", file: file, subject: subject)
        case .exited(let status):
            return MVLMError(
                .malformed, "the HDF5 worker failed (exit status \(status))", file: file,
                subject: subject)
        }
    }
}
