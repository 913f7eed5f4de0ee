import MVLMCore

/// A bounds-checked little-endian cursor over bytes from an untrusted file.
///
/// Every read checks the remaining length first and throws `.truncated` naming `context` instead of
/// trapping; integers are loaded unaligned and converted from little-endian. The bytes are held by a
/// `TensorStorage` (a file mapping or an owned copy), so a reader can outlive the scope it was made in.
public struct ByteReader: Sendable {
    private let storage: TensorStorage
    /// Offset of the next byte to read.
    public private(set) var offset: Int
    /// Used in error messages (a file name).
    public let context: String

    /// A cursor over `storage`, starting at `offset`.
    public init(_ storage: TensorStorage, offset: Int = 0, context: String) {
        self.storage = storage
        self.offset = offset
        self.context = context
    }

    /// A cursor over a copy of `bytes`.
    public init(bytes: [UInt8], context: String) {
        self.init(bytes.withUnsafeBytes { TensorStorage(copying: $0) }, context: context)
    }

    public var count: Int { storage.count }
    public var remaining: Int { storage.count - offset }
    public var isAtEnd: Bool { offset >= storage.count }

    private func require(_ length: Int, for what: String) throws {
        guard length >= 0, length <= remaining else {
            throw MVLMError(
                .truncated,
                "data ends at byte \(storage.count) while reading \(what) (\(length) bytes at offset \(offset))",
                file: context)
        }
    }

    /// Reads a little-endian fixed-width integer.
    public mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        try require(MemoryLayout<T>.size, for: what)
        let position = offset
        let value = storage.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) }
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    /// Reads a big-endian fixed-width integer (pickle's BININT is little-endian, but some formats
    /// are not).
    public mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        try require(MemoryLayout<T>.size, for: what)
        let position = offset
        let value = storage.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) }
        offset += MemoryLayout<T>.size
        return T(bigEndian: value)
    }

    public mutating func readFloat(_ what: String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what))
    }

    public mutating func readDouble(_ what: String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what))
    }

    /// Reads one byte.
    public mutating func readByte(_ what: String) throws -> UInt8 {
        try read(UInt8.self, what)
    }

    /// Reads `length` bytes as an array.
    public mutating func readBytes(_ length: Int, _ what: String) throws -> [UInt8] {
        try require(length, for: what)
        let range = offset..<(offset + length)
        let result = storage.withUnsafeBytes { Array($0[range]) }
        offset += length
        return result
    }

    /// Reads `length` bytes as UTF-8 text.
    /// - Throws: `.malformed` when the bytes are not valid UTF-8.
    public mutating func readString(_ length: Int, _ what: String) throws -> String {
        let start = offset
        let raw = try readBytes(length, what)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw MVLMError(.malformed, "\(what) at offset \(start) is not valid UTF-8", file: context)
        }
        return text
    }

    /// Moves the cursor forward by `length` bytes.
    public mutating func skip(_ length: Int, _ what: String) throws {
        try require(length, for: what)
        offset += length
    }

    /// Moves the cursor to `position` (which may be the end).
    public mutating func seek(to position: Int, _ what: String) throws {
        guard position >= 0, position <= storage.count else {
            throw MVLMError(
                .outOfBounds, "\(what) offset \(position) is outside the data (\(storage.count) bytes)",
                file: context)
        }
        offset = position
    }
}
