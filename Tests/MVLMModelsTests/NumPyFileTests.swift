import Foundation
import MVLMCore
import MVLMModels
import MVLMTestSupport
import Testing
import MVLMNumPy

@Suite struct NumPyFileTests {
    @Test func headerIsVersion1AlignedTo64() {
        let header = NumPyFile.float32Header(shape: [64, 256])
        #expect(header.count % 64 == 0)
        #expect(Array(header[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let text = String(decoding: header[10...], as: UTF8.self)
        #expect(text.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (64, 256), }"))
        #expect(text.hasSuffix("\n"))
        let vector = String(decoding: NumPyFile.float32Header(shape: [5])[10...], as: UTF8.self)
        #expect(vector.contains("'shape': (5,)"))
    }

    @Test func writesAndReadsBack() throws {
        let directory = try Fixtures.temporaryDirectory("npy")
        let path = directory.appendingPathComponent("a.npy").path
        let values: [Float] = [1, -2.5, 3e-8, .infinity, 0, 7]
        try NumPyFile.writeFloat32(values, shape: [2, 3], to: path)
        let (shape, back) = try NumPyFile.readFloat32(path: path)
        #expect(shape == [2, 3])
        #expect(back == values)
        #expect(throws: MVLMError.self) { try NumPyFile.writeFloat32(values, shape: [4], to: path) }
    }

    @Test func rejectsTruncatedAndForeignFiles() throws {
        let directory = try Fixtures.temporaryDirectory("npy")
        let path = directory.appendingPathComponent("bad.npy").path
        var bytes = NumPyFile.float32Header(shape: [3]) + [0, 0, 128, 63]  // one of three floats
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: MVLMError.self) { try NumPyFile.readFloat32(path: path) }
        bytes = Array("not numpy at all".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: MVLMError.self) { try NumPyFile.readFloat32(path: path) }
    }
}
