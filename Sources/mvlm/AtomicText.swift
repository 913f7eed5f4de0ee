import MVLMFileIO

/// Writes a small text output (a JSON report) atomically: temporary file, fsync, rename.
enum AtomicText {
    static func write(_ text: String, to path: String) throws {
        let writer = try AtomicFileWriter(destination: path)
        try writer.write(Array(text.utf8))
        try writer.commit()
    }
}
