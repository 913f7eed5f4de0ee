import Foundation

/// The app's model: the shipped tiny MobileVLM V2 fixture (Tests/Fixtures/vision/tiny_v2, with
/// its CLIP tower in tiny_clip) converted to F16 by the `mvlm` tool beside the test bundle, with
/// `--verify` so the file carries a verification summary. Made once per test run.
enum ModelFixture {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    static let image = fixtures + "/vision/image.png"

    /// The converted file, or the error that stopped the conversion.
    static let converted: Result<String, ToolError> = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mobilevlm-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = directory.appendingPathComponent("tiny_v2.f16.mvlm").path
        let result = run(["convert", fixtures + "/vision/tiny_v2", "-o", output, "--quant", "f16", "--verify"])
        guard result.status == 0 else { return .failure(ToolError(message: "convert failed: \(result.stderr)")) }
        return .success(output)
    }()

    static func path() throws -> String { try converted.get() }

    struct ToolError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Runs the `mvlm` executable built next to the test bundle and waits for it.
    static func run(_ arguments: [String]) -> (status: Int32, stdout: String, stderr: String) {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("mvlm").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        let process = Process()
        process.executableURL = directory.appendingPathComponent("mvlm")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (-1, "", "\(error)") }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
