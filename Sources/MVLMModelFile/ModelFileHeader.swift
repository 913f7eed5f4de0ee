import MVLMCompression
import MVLMCore

/// The fixed 64-byte header at the start of every `.mvlm` file (Formats/mvlm.md, "Header").
public struct ModelFileHeader: Sendable, Equatable {
    /// `MVLM\r\n\u{1A}\n`: the name, then bytes that break under text-mode transfers (as PNG does).
    public static let magic: [UInt8] = [0x4D, 0x56, 0x4C, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A]
    public static let size = 64
    /// Alignment of every tensor's data, relative to the start of the file.
    public static let alignment = 64
    public static let majorVersion: UInt16 = 1
    public static let minorVersion: UInt16 = 0

    public var major: UInt16 = majorVersion
    public var minor: UInt16 = minorVersion
    public var fileSize: UInt64
    public var dataOffset: UInt64
    public var dataSize: UInt64
    public var manifestOffset: UInt64
    public var manifestSize: UInt64
    public var manifestCRC32: UInt32

    public init(
        fileSize: UInt64, dataOffset: UInt64, dataSize: UInt64, manifestOffset: UInt64, manifestSize: UInt64,
        manifestCRC32: UInt32
    ) {
        self.fileSize = fileSize
        self.dataOffset = dataOffset
        self.dataSize = dataSize
        self.manifestOffset = manifestOffset
        self.manifestSize = manifestSize
        self.manifestCRC32 = manifestCRC32
    }

    /// The 64 header bytes, ending with the CRC-32 of the 60 before it.
    public func encoded() -> [UInt8] {
        var bytes = ModelFileHeader.magic
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        append(major)
        append(minor)
        append(UInt32(ModelFileHeader.size))
        append(fileSize)
        append(dataOffset)
        append(dataSize)
        append(manifestOffset)
        append(manifestSize)
        append(manifestCRC32)
        let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
        append(crc)
        return bytes
    }

    /// Parses and checks the header of a file of `fileLength` bytes.
    /// - Throws: `MVLMError` naming `path` for a wrong magic, an unsupported major version, a bad
    ///   header checksum, or sections that do not fit the file.
    public static func decode(_ bytes: UnsafeRawBufferPointer, fileLength: Int, path: String) throws -> ModelFileHeader {
        guard bytes.count >= size else {
            throw MVLMError(.truncated, "file has \(bytes.count) bytes; an .mvlm header has 64", file: path)
        }
        guard zip(bytes[0..<8], magic).allSatisfy({ $0 == $1 }) else {
            if Zstd.isFrame(bytes) {
                throw MVLMError(
                    .unsupported,
                    "this is the zstd-compressed distribution form; unpack it first: mvlm unpack FILE -o OUT.mvlm",
                    file: path)
            }
            throw MVLMError(.malformed, "not an .mvlm file (bad magic)", file: path)
        }
        func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        let major = u16(8)
        guard major == majorVersion else {
            throw MVLMError(
                .unsupported, "format version \(major).\(u16(10)); this mvlm reads version \(majorVersion).x", file: path)
        }
        let stored = u32(60)
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60]))
        guard stored == computed else {
            throw MVLMError(
                .malformed, "header checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the file is corrupt",
                file: path)
        }
        guard u32(12) == UInt32(size) else {
            throw MVLMError(.malformed, "header size field is \(u32(12)), expected 64", file: path)
        }
        var header = ModelFileHeader(
            fileSize: u64(16), dataOffset: u64(24), dataSize: u64(32), manifestOffset: u64(40), manifestSize: u64(48),
            manifestCRC32: u32(56))
        header.major = major
        header.minor = u16(10)
        let length = UInt64(fileLength)
        guard header.fileSize == length else {
            throw MVLMError(
                .truncated, "header says the file has \(header.fileSize) bytes but it has \(length) (incomplete copy?)",
                file: path)
        }
        let (dataEnd, o1) = header.dataOffset.addingReportingOverflow(header.dataSize)
        let (manifestEnd, o2) = header.manifestOffset.addingReportingOverflow(header.manifestSize)
        guard !o1, !o2, header.dataOffset >= UInt64(size), header.dataOffset % UInt64(alignment) == 0,
            dataEnd <= header.manifestOffset, manifestEnd <= length
        else {
            throw MVLMError(
                .outOfBounds,
                "sections do not fit: data \(header.dataOffset)+\(header.dataSize), manifest \(header.manifestOffset)+\(header.manifestSize), file \(length)",
                file: path)
        }
        return header
    }
}

func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
