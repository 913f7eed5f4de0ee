import MVLMCompression
import MVLMCore
import MVLMFileIO

/// The central directory of a zip archive that lives in a memory mapping, read without copying.
///
/// Only what torch.save writes is supported: a single-disk archive, optionally ZIP64, whose entries
/// are stored (method 0). Every offset and length read from the file is checked against the file
/// before use. `dataRange(of:)` returns where an entry's bytes lie in the mapping, so tensor data
/// can be viewed in place.
struct ZipArchive: Sendable {
    /// One central-directory record.
    struct Entry: Sendable {
        var name: String
        /// General-purpose flags (bit 0: encrypted, bit 3: sizes in a data descriptor).
        var flags: UInt16
        /// 0 = stored, 8 = deflate, others rarer.
        var method: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    /// Entries in central-directory order.
    let entries: [Entry]
    /// Entry index by name.
    let index: [String: Int]
    /// Where the central directory starts; entry data must lie before it.
    let centralDirectoryOffset: Int
    private let file: TensorStorage
    private let path: String

    private static let endOfCentralDirectorySignature: UInt32 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    private static let zip64EndSignature: UInt32 = 0x0606_4b50
    private static let centralHeaderSignature: UInt32 = 0x0201_4b50
    private static let localHeaderSignature: UInt32 = 0x0403_4b50
    /// Upper bound on entries, so a hostile count cannot make us allocate without limit.
    static let maximumEntryCount = 1 << 22

    /// Parses the end-of-central-directory record(s) and the central directory.
    /// - Throws: `MVLMError` (`.malformed`, `.truncated`, `.outOfBounds`, `.unsupported`) naming
    ///   `path` when the archive is not a well-formed single-disk zip.
    init(file: TensorStorage, path: String) throws {
        self.file = file
        self.path = path
        let size = file.count
        guard let eocd = Self.findEndOfCentralDirectory(in: file) else {
            let startsLikeZip = size >= 4 && file.withUnsafeBytes {
                $0.loadUnaligned(as: UInt32.self).littleEndian == Self.localHeaderSignature
            }
            if startsLikeZip {
                throw MVLMError(
                    .truncated,
                    "the file starts like a zip archive but has no end-of-central-directory record (\(size) bytes): it is probably truncated; download or save it again",
                    file: path)
            }
            throw MVLMError(
                .malformed,
                "not a PyTorch checkpoint: no zip end-of-central-directory record (\(size) bytes)",
                file: path)
        }
        var reader = ByteReader(file, offset: eocd + 4, context: path)
        let diskNumber = try reader.read(UInt16.self, "zip end record")
        let directoryDisk = try reader.read(UInt16.self, "zip end record")
        let entriesOnDisk = try reader.read(UInt16.self, "zip end record")
        let totalEntries16 = try reader.read(UInt16.self, "zip end record")
        let directorySize32 = try reader.read(UInt32.self, "zip end record")
        let directoryOffset32 = try reader.read(UInt32.self, "zip end record")

        var entryCount = UInt64(totalEntries16)
        var directorySize = UInt64(directorySize32)
        var directoryOffset = UInt64(directoryOffset32)
        var directoryEnd = eocd  // the central directory ends where the end record(s) start
        let needsZip64 =
            totalEntries16 == 0xFFFF || entriesOnDisk == 0xFFFF || directorySize32 == 0xFFFF_FFFF
            || directoryOffset32 == 0xFFFF_FFFF
        var hasZip64 = false
        if eocd >= 20 {
            var locator = ByteReader(file, offset: eocd - 20, context: path)
            if try locator.read(UInt32.self, "ZIP64 locator") == Self.zip64LocatorSignature {
                hasZip64 = true
                let locatorDisk = try locator.read(UInt32.self, "ZIP64 locator")
                let recordOffset = try locator.read(UInt64.self, "ZIP64 locator")
                let totalDisks = try locator.read(UInt32.self, "ZIP64 locator")
                guard locatorDisk == 0, totalDisks <= 1 else {
                    throw MVLMError(.unsupported, "multi-disk zip archives are not supported", file: path)
                }
                guard eocd - 20 >= 56, recordOffset <= UInt64(eocd - 20 - 56) else {
                    throw MVLMError(
                        .outOfBounds,
                        "ZIP64 end record offset \(recordOffset) is not before its locator at \(eocd - 20)",
                        file: path)
                }
                var record = ByteReader(file, offset: Int(recordOffset), context: path)
                guard try record.read(UInt32.self, "ZIP64 end record") == Self.zip64EndSignature else {
                    throw MVLMError(
                        .malformed, "no ZIP64 end record signature at offset \(recordOffset)", file: path)
                }
                try record.skip(8 + 2 + 2, "ZIP64 end record")  // record size, versions
                let disk = try record.read(UInt32.self, "ZIP64 end record")
                let startDisk = try record.read(UInt32.self, "ZIP64 end record")
                _ = try record.read(UInt64.self, "ZIP64 end record")  // entries on this disk
                entryCount = try record.read(UInt64.self, "ZIP64 end record")
                directorySize = try record.read(UInt64.self, "ZIP64 end record")
                directoryOffset = try record.read(UInt64.self, "ZIP64 end record")
                guard disk == 0, startDisk == 0 else {
                    throw MVLMError(.unsupported, "multi-disk zip archives are not supported", file: path)
                }
                directoryEnd = Int(recordOffset)
            }
        }
        if !hasZip64 {
            guard !needsZip64 else {
                throw MVLMError(
                    .malformed, "zip end record needs a ZIP64 record but the archive has none", file: path)
            }
            guard diskNumber == 0, directoryDisk == 0, entriesOnDisk == totalEntries16 else {
                throw MVLMError(.unsupported, "multi-disk zip archives are not supported", file: path)
            }
        }
        guard directoryOffset <= UInt64(directoryEnd),
            directorySize <= UInt64(directoryEnd) - directoryOffset
        else {
            throw MVLMError(
                .outOfBounds,
                "zip central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the \(size)-byte file",
                file: path)
        }
        // Every central header is at least 46 bytes: a count larger than that is a lie.
        guard entryCount <= directorySize / 46, entryCount <= UInt64(Self.maximumEntryCount) else {
            throw MVLMError(
                .malformed,
                "zip central directory claims \(entryCount) entries in \(directorySize) bytes",
                file: path)
        }
        let start = Int(directoryOffset)
        let end = start + Int(directorySize)
        var cursor = ByteReader(file, offset: start, context: path)
        var entries: [Entry] = []
        entries.reserveCapacity(Int(entryCount))
        var index: [String: Int] = [:]
        for number in 0..<Int(entryCount) {
            let entry = try Self.readCentralHeader(&cursor, number: number, end: end, path: path)
            guard entry.localHeaderOffset < start else {
                throw MVLMError(
                    .outOfBounds,
                    "zip entry \(PyTorchText.quoted(entry.name)): local header offset \(entry.localHeaderOffset) is not before the central directory at \(start)",
                    file: path)
            }
            guard index[entry.name] == nil else {
                throw MVLMError(
                    .malformed, "zip entry \(PyTorchText.quoted(entry.name)) appears twice", file: path)
            }
            index[entry.name] = entries.count
            entries.append(entry)
        }
        self.entries = entries
        self.index = index
        self.centralDirectoryOffset = start
    }

    private static func readCentralHeader(
        _ cursor: inout ByteReader, number: Int, end: Int, path: String
    ) throws -> Entry {
        let what = "zip central directory entry \(number)"
        guard cursor.offset <= end - 46 else {
            throw MVLMError(.truncated, "\(what) runs past the end of the central directory", file: path)
        }
        guard try cursor.read(UInt32.self, what) == centralHeaderSignature else {
            throw MVLMError(
                .malformed, "\(what): bad signature at offset \(cursor.offset - 4)", file: path)
        }
        try cursor.skip(4, what)  // versions
        let flags = try cursor.read(UInt16.self, what)
        let method = try cursor.read(UInt16.self, what)
        try cursor.skip(4, what)  // time, date
        let crc = try cursor.read(UInt32.self, what)
        let compressed32 = try cursor.read(UInt32.self, what)
        let uncompressed32 = try cursor.read(UInt32.self, what)
        let nameLength = Int(try cursor.read(UInt16.self, what))
        let extraLength = Int(try cursor.read(UInt16.self, what))
        let commentLength = Int(try cursor.read(UInt16.self, what))
        let diskStart16 = try cursor.read(UInt16.self, what)
        try cursor.skip(6, what)  // attributes
        let offset32 = try cursor.read(UInt32.self, what)
        guard nameLength + extraLength + commentLength <= end - cursor.offset else {
            throw MVLMError(.truncated, "\(what): name and extra fields run past the central directory", file: path)
        }
        let nameBytes = try cursor.readBytes(nameLength, what)
        let name = String(decoding: nameBytes, as: UTF8.self)
        let extra = try cursor.readBytes(extraLength, what)
        try cursor.skip(commentLength, what)

        var compressed = UInt64(compressed32)
        var uncompressed = UInt64(uncompressed32)
        var offset = UInt64(offset32)
        var diskStart = UInt32(diskStart16)
        if compressed32 == 0xFFFF_FFFF || uncompressed32 == 0xFFFF_FFFF || offset32 == 0xFFFF_FFFF
            || diskStart16 == 0xFFFF
        {
            // ZIP64 extended information (0x0001): present fields in this fixed order.
            guard let field = try extraField(0x0001, in: extra, entry: name, path: path) else {
                throw MVLMError(
                    .malformed,
                    "zip entry \(PyTorchText.quoted(name)): 32-bit field is 0xFFFFFFFF but there is no ZIP64 extra field",
                    file: path)
            }
            var zip64 = ByteReader(bytes: field, context: path)
            let what64 = "ZIP64 extra field of \(PyTorchText.quoted(name))"
            if uncompressed32 == 0xFFFF_FFFF { uncompressed = try zip64.read(UInt64.self, what64) }
            if compressed32 == 0xFFFF_FFFF { compressed = try zip64.read(UInt64.self, what64) }
            if offset32 == 0xFFFF_FFFF { offset = try zip64.read(UInt64.self, what64) }
            if diskStart16 == 0xFFFF { diskStart = try zip64.read(UInt32.self, what64) }
        }
        guard diskStart == 0 else {
            throw MVLMError(.unsupported, "multi-disk zip archives are not supported", file: path)
        }
        let limit = UInt64(Int.max)
        guard compressed <= limit, uncompressed <= limit, offset <= limit else {
            throw MVLMError(
                .outOfBounds, "zip entry \(PyTorchText.quoted(name)): size or offset overflows", file: path)
        }
        return Entry(
            name: name, flags: flags, method: method, crc32: crc, compressedSize: Int(compressed),
            uncompressedSize: Int(uncompressed), localHeaderOffset: Int(offset))
    }

    /// The payload of extra field `id`, or nil when absent.
    private static func extraField(_ id: UInt16, in extra: [UInt8], entry: String, path: String) throws
        -> [UInt8]?
    {
        var position = 0
        while position + 4 <= extra.count {
            let fieldID = UInt16(extra[position]) | UInt16(extra[position + 1]) << 8
            let length = Int(UInt16(extra[position + 2]) | UInt16(extra[position + 3]) << 8)
            let start = position + 4
            guard length <= extra.count - start else {
                throw MVLMError(
                    .malformed,
                    "zip entry \(PyTorchText.quoted(entry)): extra field 0x\(String(fieldID, radix: 16)) runs past the extra data",
                    file: path)
            }
            if fieldID == id { return Array(extra[start..<(start + length)]) }
            position = start + length
        }
        return nil
    }

    /// Finds the end-of-central-directory record: the last signature whose comment length reaches
    /// exactly to the end of the file.
    private static func findEndOfCentralDirectory(in file: TensorStorage) -> Int? {
        let size = file.count
        guard size >= 22 else { return nil }
        return file.withUnsafeBytes { bytes -> Int? in
            let lowest = max(0, size - 22 - 0xFFFF)
            var position = size - 22
            while position >= lowest {
                if bytes[position] == 0x50, bytes[position + 1] == 0x4b, bytes[position + 2] == 5,
                    bytes[position + 3] == 6
                {
                    let comment = Int(bytes[position + 20]) | Int(bytes[position + 21]) << 8
                    if position + 22 + comment == size { return position }
                }
                position -= 1
            }
            return nil
        }
    }

    /// The entry named `name`, if any.
    func entry(named name: String) -> Entry? {
        index[name].map { entries[$0] }
    }

    /// Where `entry`'s stored bytes lie in the file, after checking its local header.
    /// - Throws: `.unsupported` for compressed or encrypted entries (with how to fix it),
    ///   `.malformed`/`.outOfBounds` when the local header or sizes are inconsistent.
    func dataRange(of entry: Entry) throws -> Range<Int> {
        let quotedName = PyTorchText.quoted(entry.name)
        guard entry.flags & 1 == 0 else {
            throw MVLMError(.unsupported, "zip entry \(quotedName) is encrypted", file: path)
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw MVLMError(
                .unsupported,
                "zip entry \(quotedName) is compressed with zip method \(entry.method) (only stored and deflate are read); re-save the checkpoint with torch.save(torch.load(path, weights_only=True), path)",
                file: path)
        }
        guard entry.method == 8 || entry.compressedSize == entry.uncompressedSize else {
            throw MVLMError(
                .malformed,
                "zip entry \(quotedName) is stored but its sizes differ (\(entry.compressedSize) vs \(entry.uncompressedSize))",
                file: path)
        }
        var local = ByteReader(file, offset: entry.localHeaderOffset, context: path)
        let what = "local header of zip entry \(quotedName)"
        guard try local.read(UInt32.self, what) == Self.localHeaderSignature else {
            throw MVLMError(
                .malformed, "\(what): bad signature at offset \(entry.localHeaderOffset)", file: path)
        }
        try local.skip(22, what)
        let nameLength = Int(try local.read(UInt16.self, what))
        let extraLength = Int(try local.read(UInt16.self, what))
        let localName = try local.readBytes(nameLength, what)
        guard String(decoding: localName, as: UTF8.self) == entry.name else {
            throw MVLMError(
                .malformed, "\(what) names a different file than the central directory", file: path)
        }
        try local.skip(extraLength, what)
        let start = local.offset
        let (end, overflow) = start.addingReportingOverflow(entry.compressedSize)
        guard !overflow, end <= centralDirectoryOffset else {
            throw MVLMError(
                .outOfBounds,
                "zip entry \(quotedName): \(entry.compressedSize) bytes at offset \(start) run past the central directory at \(centralDirectoryOffset)",
                file: path)
        }
        return start..<end
    }

    /// Largest declared size accepted for a deflate entry: 64 times its compressed size plus
    /// 64 MiB. Deflate itself can expand about 1032:1, but weights do not compress like that, so
    /// a "zip bomb" cannot make us allocate more than this; the output also grows only as zlib
    /// produces it (`Inflate.raw`).
    static let maximumInflationRatio = 64
    static let inflationAllowance = 64 << 20
    static func maximumInflatedSize(compressed: Int) -> Int {
        compressed.multipliedReportingOverflow(by: maximumInflationRatio).overflow
            ? Int.max : (compressed &* maximumInflationRatio).addingReportingOverflow(inflationAllowance).partialValue
    }

    /// An entry's bytes: a view borrowing the mapping for stored entries; for deflate entries (which
    /// torch.save never writes, but re-zipped checkpoints have) an owned copy inflated through zlib
    /// and checked against the entry's CRC-32.
    func contents(of entry: Entry) throws -> TensorStorage {
        let range = try dataRange(of: entry)
        if entry.method == 0 {
            return file.withUnsafeBytes {
                TensorStorage(borrowing: UnsafeRawBufferPointer(rebasing: $0[range]), owner: file)
            }
        }
        let quotedName = PyTorchText.quoted(entry.name)
        guard entry.uncompressedSize <= Self.maximumInflatedSize(compressed: entry.compressedSize) else {
            throw MVLMError(
                .outOfBounds,
                "zip entry \(quotedName) claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed (refused: more than \(Self.maximumInflationRatio)x plus 64 MiB)",
                file: path)
        }
        let inflated: [UInt8]
        do {
            inflated = try file.withUnsafeBytes {
                try Inflate.raw(UnsafeRawBufferPointer(rebasing: $0[range]), expectedSize: entry.uncompressedSize)
            }
        } catch let error as MVLMError {
            throw MVLMError(error.code, "zip entry \(quotedName): \(error.message)", file: path)
        }
        let crc = inflated.withUnsafeBytes { CRC32.checksum($0) }
        guard crc == entry.crc32 else {
            throw MVLMError(.malformed, "zip entry \(quotedName) fails its CRC-32 check after inflating", file: path)
        }
        return inflated.withUnsafeBytes { TensorStorage(copying: $0) }
    }
}
