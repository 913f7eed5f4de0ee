import Foundation
import MVLMCheckpoint
import MVLMModelFile
import MVLMTestSupport
import Testing

/// Provenance: `convert` records each source file's SHA-256, `verify --against` compares it with
/// the source on disk. The reference digests come from coreutils' `sha256sum`.
@Suite struct SourceCheckTests {
    static func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    /// A copy of the mha_f32 fixture's folder (config.json, model.safetensors) to change freely.
    static func sourceCopy() throws -> String {
        let folder = try Fixtures.temporaryDirectory("source-check").appendingPathComponent("source").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: Fixtures.path("llama/mha_f32/\(name)"), toPath: folder + "/" + name)
        }
        return folder
    }

    @Test func convertRecordsEachSourceFilesSHA256() throws {
        let source = try Self.sourceCopy()
        let output = source + "/../m.mvlm"
        let result = try CommandLineTool.run(["convert", source, "-o", output, "--quant", "q8_0", "--no-verify", "--json"])
        try #require(result.status == 0, "\(result.stderr)")
        // The predicted size counts the digests (64 hex digits each, zeros before they are known).
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["bytes"] as? Int == summary["predicted_bytes"] as? Int)
        let manifest = try ModelFileReader(path: output).manifest
        let files = try #require(manifest.source?["files"]?.arrayValue)
        #expect(files.count == 1)
        #expect(files.first?["name"]?.stringValue == "model.safetensors")
        #expect(files.first?["sha256"]?.stringValue == (try Self.sha256sum(source + "/model.safetensors")))
        #expect(try Checkpoint.sha256(ofFileAt: source + "/config.json") == (try Self.sha256sum(source + "/config.json")))
    }

    static func check(_ file: String, against source: String) throws -> [String: Any] {
        let result = try CommandLineTool.run(["verify", file, "--against", source, "--tokens", "1,2,3,4,5,6,7,8", "--json", "-"])
        try #require(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(json["source_check"] as? [String: Any])
    }

    @Test func verifySaysWhenTheSourceOnDiskIsNotTheOneTheFileWasMadeFrom() throws {
        let source = try Self.sourceCopy()
        let file = source + "/../m.mvlm"
        let converted = try CommandLineTool.run(["convert", source, "-o", file, "--quant", "f16"])
        try #require(converted.status == 0, "\(converted.stderr)")
        let same = try Self.check(file, against: source)
        #expect(same["status"] as? String == "same")
        #expect((same["differences"] as? [String])?.isEmpty == true)

        // One bit of the last weight's lowest mantissa byte changes: a different source.
        let weights = source + "/model.safetensors"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: weights))
        bytes[bytes.count - 4] ^= 1
        try bytes.write(to: URL(fileURLWithPath: weights))
        let changed = try Self.check(file, against: source)
        #expect(changed["status"] as? String == "different")
        let differences = try #require(changed["differences"] as? [String])
        #expect(differences.count == 1 && differences[0].contains("model.safetensors") && differences[0].contains("SHA-256"))
        let table = try CommandLineTool.run(["verify", file, "--against", source, "--tokens", "1,2,3,4,5,6,7,8"])
        #expect(table.stdout.contains("NOT the ones the file was made from"))
    }
}
