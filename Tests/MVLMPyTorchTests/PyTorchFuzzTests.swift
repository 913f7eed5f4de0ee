import Foundation
import MVLMCore
import MVLMTestSupport
import Testing

@testable import MVLMPyTorch

@Suite("PyTorchReader never crashes on damaged files")
struct PyTorchFuzzTests {
    @Test("seeded byte flips and truncations either read or throw MVLMError", arguments: [
        "views.pt", "module_state.pth", "protocol4.pt", "nested.pt",
    ])
    func mutations(file: String) throws {
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("pytorch/\(file)"))))
        let directory = try Fixtures.temporaryDirectory("pytorch-fuzz")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("mutated.pt").path
        var random = SeededRandom(seed: 0x5EED)
        var refused = 0
        for round in 0..<250 {
            var bytes = original
            if round % 5 == 4 {
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &random))
            } else {
                // Damage the pickle and directory more often than the tensor bytes.
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let index = round % 2 == 0
                        ? Int.random(in: 0..<min(bytes.count, 700), using: &random)
                        : Int.random(in: 0..<bytes.count, using: &random)
                    bytes[index] = UInt8.random(in: 0...255, using: &random)
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let reader = try PyTorchReader(path: path)
                for info in reader.tensorInfos {
                    let tensor = try reader.tensor(named: info.name)
                    _ = tensor.withUnsafeBytes { $0.count }
                }
            } catch let error as MVLMError {
                refused += 1
                #expect(!error.description.contains("\n"))
                #expect(error.description.hasPrefix(path))
            }
        }
        #expect(refused > 0)
    }
}
