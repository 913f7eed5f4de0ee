import Foundation

/// Locations of the committed test fixtures and of scratch space for tests.
public enum Fixtures {
    /// `Tests/Fixtures` in the source tree.
    public static let directory: URL = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // MVLMTestSupport
            .deletingLastPathComponent()  // Tests
            .appendingPathComponent("Fixtures")
    }()

    /// The path of a fixture, relative to `Tests/Fixtures`.
    public static func path(_ relative: String) -> String {
        directory.appendingPathComponent(relative).path
    }

    /// A fresh empty directory under the system's temporary directory.
    public static func temporaryDirectory(_ label: String = "mvlm-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
