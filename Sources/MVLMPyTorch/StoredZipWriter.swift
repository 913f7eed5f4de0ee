import MVLMCompression
import MVLMCore
import MVLMFileIO

/// Streams a zip archive of stored (uncompressed) entries, the layout torch.save writes: each local
/// header has flag bit 3 set and zero CRC/sizes, the data follows, then a data descriptor with the
/// CRC computed on the fly; the central directory and end records close the file. Entries larger
/// than 4 GiB, offsets past 4 GiB and more than 65,535 entries use ZIP64 records.
struct StoredZipWriter {
    private struct CentralRecord {
        var name: [UInt8]
        var crc32: UInt32
        var size: Int
        var offset: Int
    }

    private let output: AtomicFileWriter
    /// Always write ZIP64 fields (to exercise that path in tests on small files).
    private let forceZip64: Bool
    private var records: [CentralRecord] = []
    private var offset = 0
    private var current: (name: [UInt8], offset: Int, expected: Int, zip64: Bool)?
    private var written = 0
    private var crc: UInt32 = 0

    static let flags: UInt16 = 0x0808  // bit 3: data descriptor; bit 11: UTF-8 names

    init(output: AtomicFileWriter, forceZip64: Bool = false) {
        self.output = output
        self.forceZip64 = forceZip64
    }

    /// Starts an entry of exactly `size` bytes whose data begins at a multiple of `alignment`
    /// (padding goes in an extra field, as torch's `FB` field does).
    mutating func beginEntry(_ name: String, size: Int, alignment: Int = 64) throws {
        precondition(current == nil, "previous entry not ended")
        let nameBytes = Array(name.utf8)
        let zip64 = forceZip64 || size >= 0xFFFF_FFFF
        var header = LittleEndianBytes()
        header.u32(0x0403_4b50)
        header.u16(zip64 ? 45 : 20)
        header.u16(Self.flags)
        header.u16(0)  // stored
        header.u16(0)  // time
        header.u16(0)  // date
        header.u32(0)  // CRC: in the data descriptor
        header.u32(zip64 ? 0xFFFF_FFFF : 0)
        header.u32(zip64 ? 0xFFFF_FFFF : 0)
        let zip64Extra = zip64 ? 20 : 0
        let unpadded = offset + 30 + nameBytes.count + zip64Extra + 4
        let padding = (alignment - unpadded % alignment) % alignment
        header.u16(UInt16(nameBytes.count))
        header.u16(UInt16(zip64Extra + 4 + padding))
        header.bytes += nameBytes
        if zip64 {
            header.u16(0x0001)
            header.u16(16)
            header.u64(0)  // sizes follow in the data descriptor
            header.u64(0)
        }
        header.u16(0x4246)  // "FB": torch's padding field
        header.u16(UInt16(padding))
        header.bytes += [UInt8](repeating: 0x5A, count: padding)
        try output.write(header.bytes)
        current = (nameBytes, offset, size, zip64)
        offset += header.bytes.count
        written = 0
        crc = 0
    }

    /// Appends bytes to the current entry.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let entry = current else { preconditionFailure("no entry begun") }
        guard bytes.count <= entry.expected - written else {
            throw MVLMError(
                .invalidArgument,
                "more than the declared \(entry.expected) bytes were provided for \(String(decoding: entry.name, as: UTF8.self))")
        }
        crc = CRC32.checksum(bytes, initial: crc)
        try output.write(bytes)
        written += bytes.count
        offset += bytes.count
    }

    mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Ends the current entry with its data descriptor.
    mutating func endEntry() throws {
        guard let entry = current else { preconditionFailure("no entry begun") }
        guard written == entry.expected else {
            throw MVLMError(
                .invalidArgument,
                "\(written) bytes were provided for \(String(decoding: entry.name, as: UTF8.self)), expected \(entry.expected)")
        }
        var descriptor = LittleEndianBytes()
        descriptor.u32(0x0807_4b50)
        descriptor.u32(crc)
        if entry.zip64 {
            descriptor.u64(UInt64(written))
            descriptor.u64(UInt64(written))
        } else {
            descriptor.u32(UInt32(written))
            descriptor.u32(UInt32(written))
        }
        try output.write(descriptor.bytes)
        offset += descriptor.bytes.count
        records.append(CentralRecord(name: entry.name, crc32: crc, size: written, offset: entry.offset))
        current = nil
    }

    /// Writes the central directory and end records.
    mutating func finish() throws {
        precondition(current == nil, "entry not ended")
        let directoryOffset = offset
        var directory = LittleEndianBytes()
        for record in records {
            let bigSize = forceZip64 || record.size >= 0xFFFF_FFFF
            let bigOffset = forceZip64 || record.offset >= 0xFFFF_FFFF
            var extra = LittleEndianBytes()
            if bigSize || bigOffset {
                extra.u16(0x0001)
                extra.u16(UInt16((bigSize ? 16 : 0) + (bigOffset ? 8 : 0)))
                if bigSize {
                    extra.u64(UInt64(record.size))
                    extra.u64(UInt64(record.size))
                }
                if bigOffset { extra.u64(UInt64(record.offset)) }
            }
            directory.u32(0x0201_4b50)
            directory.u16(bigSize || bigOffset ? 45 : 20)  // made by
            directory.u16(bigSize || bigOffset ? 45 : 20)  // needed
            directory.u16(Self.flags)
            directory.u16(0)
            directory.u16(0)
            directory.u16(0)
            directory.u32(record.crc32)
            directory.u32(bigSize ? 0xFFFF_FFFF : UInt32(record.size))
            directory.u32(bigSize ? 0xFFFF_FFFF : UInt32(record.size))
            directory.u16(UInt16(record.name.count))
            directory.u16(UInt16(extra.bytes.count))
            directory.u16(0)  // comment
            directory.u16(0)  // disk
            directory.u16(0)  // internal attributes
            directory.u32(0)  // external attributes
            directory.u32(bigOffset ? 0xFFFF_FFFF : UInt32(record.offset))
            directory.bytes += record.name
            directory.bytes += extra.bytes
        }
        try output.write(directory.bytes)
        offset += directory.bytes.count
        let directorySize = directory.bytes.count
        let needsZip64 =
            forceZip64 || records.count >= 0xFFFF || directorySize >= 0xFFFF_FFFF
            || directoryOffset >= 0xFFFF_FFFF
        var end = LittleEndianBytes()
        if needsZip64 {
            let recordOffset = offset
            end.u32(0x0606_4b50)
            end.u64(44)
            end.u16(45)
            end.u16(45)
            end.u32(0)
            end.u32(0)
            end.u64(UInt64(records.count))
            end.u64(UInt64(records.count))
            end.u64(UInt64(directorySize))
            end.u64(UInt64(directoryOffset))
            end.u32(0x0706_4b50)
            end.u32(0)
            end.u64(UInt64(recordOffset))
            end.u32(1)
        }
        let count16 = needsZip64 ? 0xFFFF : UInt16(records.count)
        end.u32(0x0605_4b50)
        end.u16(0)
        end.u16(0)
        end.u16(count16)
        end.u16(count16)
        end.u32(needsZip64 ? 0xFFFF_FFFF : UInt32(directorySize))
        end.u32(needsZip64 ? 0xFFFF_FFFF : UInt32(directoryOffset))
        end.u16(0)
        try output.write(end.bytes)
        offset += end.bytes.count
    }
}
