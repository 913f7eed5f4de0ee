import Foundation
import MVLMCore
import MVLMModelFile
import MVLMTestSupport
import Testing

/// `convert --target`: every device target writes its layout (rows16 for all but generic, whose
/// matrices stay row-major), records itself in the manifest, passes `verify --integrity`, and runs
/// on this x86 machine to the same greedy tokens as the row-major file, with the vector kernels and
/// with the portable ones (what a CPU without a fast kernel for the layout runs).
@Suite("device targets")
struct DeviceTargetTests {
    static let source = Fixtures.path("llama/gqa_tied_f32")
    static let tokens = ["--tokens", "1,17,42,99,3,250", "--max-new-tokens", "8"]

    static func convert(_ target: String) throws -> String {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("target-\(target).mvlm").path
        let result = try CommandLineTool.run(["convert", source, "-o", path, "--quant", "q4_0", "--target", target])
        #expect(result.status == 0, "convert --target \(target): \(result.stderr)")
        return path
    }

    /// The greedy ids `mvlm run` prints (its first stdout line).
    static func greedy(_ path: String, environment: [String: String] = [:]) throws -> String {
        let result = try CommandLineTool.run(["run", path] + tokens, environment: environment)
        #expect(result.status == 0, "run \(path): \(result.stderr)")
        return result.stdout.split(separator: "\n").first.map(String.init) ?? ""
    }

    @Test("each target writes its layout and target, verifies, and runs to the generic file's tokens",
          arguments: ["arm64-dotprod", "arm64-i8mm", "arm64-neon", "x86-avx2", "x86-avx512"])
    func target(_ target: String) throws {
        let generic = try Self.convert("generic")
        let path = try Self.convert(target)
        let reader = try ModelFileReader(path: path), plain = try ModelFileReader(path: generic)
        #expect(reader.manifest.quantization?["target"]?.stringValue == target)
        #expect(plain.manifest.quantization?["target"]?.stringValue == "generic")
        #expect(try CommandLineTool.run(["verify", path, "--integrity"]).status == 0)
        var repacked = 0
        for entry in reader.manifest.tensors {
            let tensor = try reader.verifiedTensor(named: entry.name)
            if entry.layout["kind"]?.stringValue == "rows16" {
                repacked += 1
                #expect(tensor.layout == .rows16)
            }
            // The same blocks as the row-major file, in whatever order they are stored.
            #expect(tensor.withUnsafeBytes { Array($0) } == (try plain.tensor(named: entry.name).withUnsafeBytes { Array($0) }), "\(entry.name)")
        }
        #expect(repacked > 0, "no matrix of the \(target) file is rows16")
        #expect(plain.manifest.tensors.allSatisfy { $0.layout.isEmpty })
        let expected = try Self.greedy(generic)
        #expect(!expected.isEmpty)
        #expect(try Self.greedy(path) == expected)
        #expect(try Self.greedy(path, environment: ["MVLM_KERNELS": "portable"]) == expected)
    }

    @Test("--target and --repack that contradict each other are a usage error naming both")
    func contradiction() throws {
        let out = try Fixtures.temporaryDirectory().appendingPathComponent("never.mvlm").path
        let result = try CommandLineTool.run(["convert", Self.source, "-o", out, "--target", "arm64-i8mm", "--repack", "none"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--repack none") && result.stderr.contains("--target arm64-i8mm"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let unknown = try CommandLineTool.run(["convert", Self.source, "-o", out, "--target", "arm64-sve"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("arm64-sve"))
    }

    @Test("convert --help lists every target with the phones it serves")
    func help() throws {
        let result = try CommandLineTool.run(["convert", "--help"])
        for target in ["arm64-neon", "arm64-dotprod", "arm64-i8mm", "x86-avx2", "x86-avx512", "generic"] {
            #expect(result.stdout.contains(target), "\(target) missing from convert --help")
        }
        #expect(result.stdout.contains("Snapdragon 888"))
    }
}
