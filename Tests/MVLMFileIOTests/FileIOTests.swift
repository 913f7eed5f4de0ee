import Foundation
import MVLMCore
import MVLMFileIO
import MVLMTestSupport
import Testing

@Suite("file I/O primitives")
struct FileIOTests {
    @Test("ByteReader reads little-endian values and refuses to run past the end")
    func byteReader() throws {
        var reader = ByteReader(bytes: [0x01, 0x02, 0x03, 0x04, 0x41, 0x42, 0xFF], context: "x.bin")
        #expect(try reader.read(UInt16.self, "a") == 0x0201)
        #expect(try reader.read(UInt16.self, "b") == 0x0403)
        #expect(try reader.readString(2, "name") == "AB")
        #expect { try reader.read(UInt32.self, "count") } throws: { error in
            let e = error as? MVLMError
            return e?.code == .truncated && e?.description.contains("x.bin") == true && e?.description.contains("count") == true
        }
        #expect(reader.offset == 6, "a failed read does not move the cursor")
        #expect { try reader.readString(1, "tail") } throws: { ($0 as? MVLMError)?.code == .malformed }
        #expect(throws: MVLMError.self) { try reader.seek(to: 8, "past") }
        #expect(throws: MVLMError.self) { try reader.skip(-1, "negative") }
        #expect(throws: MVLMError.self) { try reader.readBytes(Int.max, "huge") }
    }

    @Test("MappedFile maps files, refuses folders and missing paths")
    func mapping() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("f.bin").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let file = try MappedFile(path: path)
        #expect(file.count == 3)
        let storage = file.storage(for: 1..<3)
        #expect(storage.isBorrowed && storage.withUnsafeBytes { Array($0) } == [2, 3])
        let empty = directory.appendingPathComponent("empty").path
        FileManager.default.createFile(atPath: empty, contents: nil)
        #expect(try MappedFile(path: empty).count == 0)
        #expect { try MappedFile(path: directory.path) } throws: { "\($0)".contains("not a regular file") }
        #expect { try MappedFile(path: directory.appendingPathComponent("none").path) } throws: { ($0 as? MVLMError)?.code == .io }
    }

    @Test("AtomicFileWriter publishes only on commit; an abandoned write leaves nothing")
    func atomicWriter() throws {
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("out.bin").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        do {
            let writer = try AtomicFileWriter(destination: path)
            try writer.write(Array("new content".utf8))
            // dropped without commit
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.bin"])
        let writer = try AtomicFileWriter(destination: path)
        try writer.write(Array("xxxxcontent".utf8))
        try Array("new ".utf8).withUnsafeBytes { try writer.write($0, at: 0) }
        try writer.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new content")
        #expect(throws: MVLMError.self) { try AtomicFileWriter(destination: "/nonexistent-dir/x.bin") }
    }
}
