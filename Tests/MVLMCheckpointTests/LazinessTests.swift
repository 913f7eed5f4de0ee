import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMSafetensors
import MVLMTestSupport
import Testing

/// Opening and listing must not read tensor data. A 4 GiB safetensors file whose data section is a
/// hole (sparse, never written) is opened, listed and viewed; the process's resident memory must not
/// grow by anything near the file's size.
@Suite("lazy reading")
struct LazinessTests {
    static func residentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    @Test("listing and viewing a 4 GiB checkpoint touches only its header")
    func sparseCheckpoint() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("big.safetensors").path
        let elements = 1 << 30  // 4 GiB of F32
        let header = #"{"w":{"dtype":"F32","shape":[32768,32768],"data_offsets":[0,\#(elements * 4)]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(bytes.count + elements * 4))  // a hole, never written
        try handle.close()

        let before = Self.residentBytes()
        let checkpoint = try Checkpoint.open(path)
        let report = InspectReport(checkpoint: checkpoint)
        let tensor = try checkpoint.reader.tensor(named: "w")
        let after = Self.residentBytes()
        #expect(report.totals.bytes == elements * 4)
        #expect(tensor.storage.isBorrowed)
        #expect(after - before < 64 << 20, "RSS grew by \(after - before) bytes while listing a 4 GiB file")
        // Touching one element faults in one page, not the tensor.
        let first = tensor.storage.withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
        #expect(first == 0)
        #expect(Self.residentBytes() - before < 64 << 20)
    }
}
