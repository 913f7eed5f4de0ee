import Foundation
import MVLMCore
import MVLMSafetensors
import MVLMTestSupport
import Testing

@Suite("safetensors reader")
struct SafetensorsReaderTests {
    let expected: [String: Any]

    init() throws {
        expected = try loadExpectedJSON("safetensors/expected.json")
    }

    @Test("reads every dtype, 0-d and empty tensors, with values from the safetensors package",
          arguments: ["all_dtypes.safetensors", "small.safetensors"])
    func goodFile(name: String) throws {
        let reader = try SafetensorsReader(path: Fixtures.path("safetensors/\(name)"))
        let file = try #require(expected[name] as? [String: Any])
        let tensors = try #require(file["tensors"] as? [String: Any])
        #expect(Set(reader.tensorInfos.map(\.name)) == Set(tensors.keys))
        let metadata = try #require(file["metadata"] as? [String: String])
        #expect(reader.metadata == metadata.mapValues { .string($0) })
        for info in reader.tensorInfos {
            let want = try #require(tensors[info.name] as? [String: Any])
            #expect(info.dtype.name == want["dtype"] as? String, "\(info.name)")
            #expect(info.shape == jsonInts(want["shape"]), "\(info.name)")
            let tensor = try reader.tensor(named: info.name)
            #expect(tensor.shape == info.shape)
            #expect(tensor.storage.isBorrowed, "tensor data must be a view into the mapping")
            if let values = jsonFloats(want["values"]) {
                #expect(sameFloats(try tensor.floatValues(), values, tolerance: 1e-6), "\(info.name)")
            }
        }
    }

    @Test("tensors are listed in data order, with byte counts and file name")
    func order() throws {
        let reader = try SafetensorsReader(path: Fixtures.path("safetensors/small.safetensors"))
        #expect(reader.tensorInfos.map(\.name) == ["a", "b"])
        #expect(reader.tensorInfos.map(\.byteCount) == [24, 16])
        #expect(reader.tensorInfos.allSatisfy { $0.file == "small.safetensors" })
    }

    @Test("unknown tensor names are a not-found error")
    func missingTensor() throws {
        let reader = try SafetensorsReader(path: Fixtures.path("safetensors/small.safetensors"))
        #expect(throws: MVLMError.self) { try reader.tensor(named: "nope") }
    }

    @Test("hostile files are refused with a one-line error naming the file")
    func hostile() throws {
        let hostile = try #require(expected["hostile"] as? [String: [String: String]])
        #expect(hostile.count >= 14)
        for (name, facts) in hostile.sorted(by: { $0.key < $1.key }) {
            let path = Fixtures.path("safetensors/\(name)")
            do {
                let reader = try SafetensorsReader(path: path)
                for info in reader.tensorInfos { _ = try reader.tensor(named: info.name).floatValues() }
                Issue.record("\(name) (\(facts["reason"]!)) was accepted")
            } catch let error as MVLMError {
                #expect(error.code.rawValue == facts["code"], "\(name): \(error)")
                #expect(error.description.contains(name), "\(name): \(error)")
                #expect(!error.description.contains("\n"), "\(name): \(error)")
            }
        }
    }
}
