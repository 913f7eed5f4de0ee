import Foundation

/// Runs the `mvlm` executable built next to the test bundle.
public enum CommandLineTool {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// The process ended by a signal (a crash, or the kill after `timeout`).
        public var signaled: Bool
        /// The process was still running after `timeout` seconds and was killed.
        public var timedOut: Bool
    }

    /// The built `mvlm` binary (same build directory as the running tests).
    public static var executable: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // On Linux the runner is `<build>/MobileVLMKitPackageTests.xctest`; on macOS it is inside
        // `<build>/MobileVLMKitPackageTests.xctest/Contents/MacOS/`.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("mvlm").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("mvlm")
    }

    /// A release build of `mvlm` for suites that run real models (`MVLM_RELEASE_CLI`, which
    /// `.ci/run` sets after `swift build -c release --product mvlm`), if given.
    public static var releaseExecutable: URL? {
        ProcessInfo.processInfo.environment["MVLM_RELEASE_CLI"].map { URL(fileURLWithPath: $0) }
    }

    /// Runs `mvlm` (or `binary`) with `arguments` and waits for it.
    /// - Parameters:
    ///   - input: written to its standard input (a pipe, then closed); `nil` leaves standard input
    ///     as the test's own.
    ///   - timeout: seconds after which the process is killed (`timedOut` in the result); `nil`
    ///     waits for ever.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], binary: URL? = nil, input: Data? = nil,
        timeout: Double? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = binary ?? executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = input.map { _ in Pipe() }
        if let stdin { process.standardInput = stdin }
        try process.run()
        if let stdin, let input {
            stdin.fileHandleForWriting.write(input)
            try stdin.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a large output cannot block the child.
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        var timedOut = false
        if let timeout, group.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
        }
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut)
    }
}
