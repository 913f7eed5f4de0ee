import Foundation

/// Runs the `mvlm` executable built next to the test bundle.
public enum CommandLineTool {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
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
    public static func run(_ arguments: [String], environment: [String: String] = [:], binary: URL? = nil) throws -> Result {
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
        try process.run()
        // Read both pipes concurrently so a large output cannot block the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
