import MVLMCheckpoint
import MVLMCore
import MVLMModelFile

/// Whether the source given to `mvlm verify --against` is the one the `.mvlm` file was made from:
/// the SHA-256 of each source file, as `convert` recorded it in the manifest
/// (`source.files[].sha256`, Formats/mvlm.md), against the same file on disk now.
public struct SourceCheck: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Every recorded file is there with the recorded SHA-256, and there is no other.
        case same
        /// A file differs, is missing, or was not among the sources.
        case different
        /// The file records no digests (made before they were recorded, or from a GGUF export).
        case notRecorded = "not_recorded"
    }

    public var status: Status
    /// One sentence per difference (empty unless `different`).
    public var differences: [String]

    /// Compares the files `manifest` records with `source`'s files, hashing only the recorded
    /// ones that are present.
    /// - Throws: `MVLMError` naming a source file that cannot be read.
    public static func check(manifest: ModelManifest, source: Checkpoint) throws -> SourceCheck {
        var recorded: [(name: String, sha256: String)] = []
        for entry in manifest.source?["files"]?.arrayValue ?? [] {
            if let name = entry["name"]?.stringValue, let digest = entry["sha256"]?.stringValue { recorded.append((name, digest)) }
        }
        guard !recorded.isEmpty else { return SourceCheck(status: .notRecorded, differences: []) }
        let paths = source.filePaths
        var differences: [String] = []
        for (name, digest) in recorded {
            guard let path = paths[name] else {
                differences.append("\(name) was a source file; the source given has no such file")
                continue
            }
            let now = try Checkpoint.sha256(ofFileAt: path)
            if now != digest {
                differences.append("\(name) has SHA-256 \(now.prefix(16))… on disk; the file was made from \(digest.prefix(16))…")
            }
        }
        let names = Set(recorded.map(\.name))
        for name in paths.keys.sorted() where !names.contains(name) {
            differences.append("\(name) is not among the files the .mvlm file was made from")
        }
        return SourceCheck(status: differences.isEmpty ? .same : .different, differences: differences)
    }

    /// The check as a JSON value: `{"status", "differences"}`.
    public var json: MetadataValue {
        .object(["status": .string(status.rawValue), "differences": .array(differences.map { .string($0) }, elementType: "JSON")])
    }

    /// One line (or more) for the report's table.
    public var text: [String] {
        switch status {
        case .same: ["  source files     the same as the file was made from (SHA-256)"]
        case .notRecorded: ["  source files     not checked: the file records no SHA-256 of its source"]
        case .different:
            ["  source files     NOT the ones the file was made from:"] + differences.map { "    " + $0 }
        }
    }
}
