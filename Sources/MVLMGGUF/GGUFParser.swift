import MVLMCore

/// A bounds-checked little-endian parser over the bytes of a whole GGUF file.
///
/// It is created and used only inside `MappedFile.withUnsafeBytes` (see `parse(_:path:)`), so the
/// pointer it holds never outlives the mapping. Every count and length read from the file is
/// checked against the bytes that remain before anything is allocated; arithmetic on file values
/// is overflow-checked.
struct GGUFParser {
    static let maximumDimensions = GGUFReader.maximumDimensions
    static let maximumArrayDepth = GGUFReader.maximumArrayDepth
    static let maximumMetadataValues = GGUFReader.maximumMetadataValues
    static let maximumTensorCount = GGUFReader.maximumTensorCount
    /// The alignment when `general.alignment` is absent.
    static let defaultAlignment = 32
    /// Smallest encoded key-value pair: key length (8) + value type (4) + a 1-byte value.
    static let minimumKeyValueBytes = 13
    /// Smallest encoded tensor info: name length (8) + n_dims (4) + type (4) + offset (8).
    static let minimumTensorInfoBytes = 24

    private let bytes: UnsafeRawBufferPointer
    private let path: String
    private var offset = 0
    /// What is being parsed, for error messages (`header`, `key 'x'`, `tensor 'y'`).
    private var subject: String? = "header"
    private var valueBudget = GGUFParser.maximumMetadataValues
    private var repairedCurrentValue = false

    private init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Parses and validates the header, metadata and tensor infos of the file in `bytes`.
    /// - Throws: `MVLMError` naming `path` and the key or tensor concerned.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> GGUFLayout {
        var parser = GGUFParser(bytes: bytes, path: path)
        return try parser.parseFile()
    }

    // MARK: File structure

    private mutating func parseFile() throws -> GGUFLayout {
        let version = try parseHeaderStart()
        let declaredTensorCount = try read(UInt64.self, "the tensor count")
        let declaredKeyValueCount = try read(UInt64.self, "the key-value count")
        let keyValueCount = try readCount(
            declaredKeyValueCount, each: Self.minimumKeyValueBytes, what: "key-value pairs")
        let tensorCount = try readCount(
            declaredTensorCount, each: Self.minimumTensorInfoBytes, what: "tensor infos")
        guard keyValueCount <= valueBudget else {
            throw failure(
                .unsupported,
                "declares \(keyValueCount) key-value pairs; more than \(Self.maximumMetadataValues) metadata values are refused to bound memory")
        }
        valueBudget -= keyValueCount
        guard tensorCount <= Self.maximumTensorCount else {
            throw failure(
                .unsupported,
                "declares \(tensorCount) tensors; more than \(Self.maximumTensorCount) are refused to bound memory")
        }

        let (entries, repaired) = try readMetadata(count: keyValueCount)
        let alignment = try alignment(in: entries)
        // Recheck against what is left now that the metadata has been read.
        subject = "header"
        _ = try readCount(UInt64(tensorCount), each: Self.minimumTensorInfoBytes, what: "tensor infos")
        let declared = try readTensorInfos(count: tensorCount)

        subject = "header"
        let (padded, overflow) = offset.addingReportingOverflow(alignment - 1)
        guard !overflow else {
            throw failure(.outOfBounds, "the data section offset overflows with alignment \(alignment)")
        }
        let dataOffset = padded & ~(alignment - 1)
        let tensors = try place(declared, dataOffset: dataOffset, alignment: alignment)
        return GGUFLayout(
            version: version, alignment: alignment, dataOffset: dataOffset, entries: entries,
            tensors: tensors, keysWithRepairedUTF8: repaired)
    }

    /// Reads `count` key-value pairs; returns them with the keys whose strings needed repair.
    private mutating func readMetadata(count: Int) throws -> ([GGUFMetadataEntry], [String]) {
        var entries: [GGUFMetadataEntry] = []
        entries.reserveCapacity(count)
        var keys = Set<String>()
        var repaired: [String] = []
        for index in 0..<count {
            subject = "key-value pair \(index)"
            let key = try readString("the key", repairingUTF8: false)
            subject = "key '\(key)'"
            guard keys.insert(key).inserted else {
                throw failure(.malformed, "duplicate key (a key may appear only once)")
            }
            let rawType = try read(UInt32.self, "the value type")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw failure(.malformed, "unknown value type \(rawType) (GGUF defines types 0...12)")
            }
            repairedCurrentValue = false
            let value = try readValue(type, depth: 0)
            if repairedCurrentValue { repaired.append(key) }
            entries.append(GGUFMetadataEntry(key: key, type: type, value: value))
        }
        return (entries, repaired)
    }

    /// Reads magic and version; leaves the cursor at the tensor count.
    private mutating func parseHeaderStart() throws -> UInt32 {
        guard bytes.count > 0 else {
            throw failure(
                .truncated,
                "the file is empty; a GGUF file starts with a 24-byte header (magic 'GGUF', version, tensor count, key-value count)")
        }
        guard bytes.count >= 4 else {
            throw failure(.truncated, "the file has only \(bytes.count) bytes; a GGUF file starts with the 4-byte magic 'GGUF'")
        }
        let magic = Array(bytes[0..<4])
        guard magic == Array("GGUF".utf8) else {
            let hex = magic.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            let text = String(decoding: magic.map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
            throw failure(.malformed, "not a GGUF file: it starts with bytes \(hex) ('\(text)'), expected 'GGUF'")
        }
        offset = 4
        let version = try read(UInt32.self, "the version")
        if version & 0xFFFF == 0, version != 0 {
            throw failure(
                .unsupported,
                "big-endian GGUF file (the version field holds \(version.byteSwapped) in big-endian byte order); only little-endian files are supported — convert the model again on a little-endian machine")
        }
        switch version {
        case 2, 3:
            return version
        case 1:
            throw failure(
                .unsupported,
                "unsupported GGUF version 1 (it used 32-bit counts and lengths); this reader supports versions 2 and 3 — convert the model again with a current llama.cpp")
        default:
            throw failure(.unsupported, "unsupported GGUF version \(version); this reader supports versions 2 and 3")
        }
    }

    /// The alignment from `general.alignment`, or the default 32.
    private mutating func alignment(in entries: [GGUFMetadataEntry]) throws -> Int {
        guard let entry = entries.first(where: { $0.key == "general.alignment" }) else {
            return Self.defaultAlignment
        }
        subject = "key 'general.alignment'"
        guard entry.type == .uint32, case .uint(let value) = entry.value else {
            throw failure(.malformed, "the alignment must be a UINT32, found \(entry.type.name)")
        }
        guard value != 0, value & (value - 1) == 0 else {
            throw failure(.malformed, "alignment \(value) is not a nonzero power of two")
        }
        return Int(value)
    }

    // MARK: Tensor infos

    private struct DeclaredTensor {
        var name: String
        var dimensions: [Int]
        var ggmlType: UInt32
        var dtype: DType
        var offset: Int
        var byteCount: Int
    }

    private mutating func readTensorInfos(count: Int) throws -> [DeclaredTensor] {
        var declared: [DeclaredTensor] = []
        declared.reserveCapacity(count)
        var names = Set<String>()
        for index in 0..<count {
            subject = "tensor info \(index)"
            let tensor = try readTensorInfo()
            guard names.insert(tensor.name).inserted else {
                throw failure(.malformed, "duplicate tensor name (a name may appear only once)")
            }
            declared.append(tensor)
        }
        return declared
    }

    private mutating func readTensorInfo() throws -> DeclaredTensor {
        let name = try readString("the tensor name", repairingUTF8: false)
        subject = "tensor '\(name)'"
        let rank = try read(UInt32.self, "n_dims")
        guard rank <= Self.maximumDimensions else {
            throw failure(
                .malformed,
                "n_dims is \(rank); at most \(Self.maximumDimensions) dimensions are supported (ggml uses at most 4)")
        }
        var dimensions: [Int] = []
        dimensions.reserveCapacity(Int(rank))
        for axis in 0..<Int(rank) {
            let dimension = try read(UInt64.self, "dimension ne[\(axis)]")
            guard let value = Int(exactly: dimension) else {
                throw failure(.outOfBounds, "dimension ne[\(axis)] = \(dimension) exceeds 2^63 - 1")
            }
            dimensions.append(value)
        }
        let ggmlType = try read(UInt32.self, "the ggml type")
        let storedOffset = try read(UInt64.self, "the data offset")

        guard let dtype = GGMLType.dtype(forID: ggmlType) else {
            if let known = GGMLType.knownUnsupportedName(forID: ggmlType) {
                throw failure(.unsupported, "ggml type \(ggmlType) (\(known)) is not supported")
            }
            throw failure(.unsupported, "unknown ggml type \(ggmlType)")
        }
        let shapeText = "ne = \(Shape.describe(dimensions))"
        guard let elementCount = Shape.elementCount(dimensions) else {
            throw failure(.outOfBounds, "dimensions \(shapeText) overflow: the element count exceeds 2^63 - 1")
        }
        if case .block(let block) = dtype {
            let rowLength = dimensions.first ?? 1
            guard rowLength % block.blockElements == 0 else {
                throw failure(
                    .malformed,
                    "row length ne[0] = \(rowLength) is not a multiple of the \(block.name) block size \(block.blockElements)")
            }
        }
        guard let byteCount = dtype.byteCount(elementCount: elementCount) else {
            throw failure(.outOfBounds, "\(elementCount) \(dtype.name) elements (\(shapeText)) overflow the byte count")
        }
        guard let offset = Int(exactly: storedOffset) else {
            throw failure(.outOfBounds, "data offset \(storedOffset) exceeds 2^63 - 1")
        }
        return DeclaredTensor(
            name: name, dimensions: dimensions, ggmlType: ggmlType, dtype: dtype, offset: offset,
            byteCount: byteCount)
    }

    /// Checks every tensor's alignment and range and that no two overlap.
    private mutating func place(
        _ declared: [DeclaredTensor], dataOffset: Int, alignment: Int
    ) throws -> [GGUFTensorInfo] {
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(declared.count)
        for tensor in declared {
            subject = "tensor '\(tensor.name)'"
            guard tensor.offset % alignment == 0 else {
                throw failure(
                    .malformed,
                    "data offset \(tensor.offset) is misaligned: it must be a multiple of the alignment \(alignment)")
            }
            let (start, startOverflow) = dataOffset.addingReportingOverflow(tensor.offset)
            guard !startOverflow, start <= bytes.count else {
                throw failure(
                    .outOfBounds,
                    "data offset \(tensor.offset) points past the end of the file (data section at byte \(dataOffset), file size \(bytes.count))")
            }
            let (end, endOverflow) = start.addingReportingOverflow(tensor.byteCount)
            guard !endOverflow, end <= bytes.count else {
                throw failure(
                    .truncated,
                    "data needs bytes \(start)..<\(endOverflow ? Int.max : end) (\(tensor.byteCount) bytes of \(tensor.dtype.name)) but the file ends at byte \(bytes.count)")
            }
            tensors.append(
                GGUFTensorInfo(
                    name: tensor.name, dimensions: tensor.dimensions, ggmlType: tensor.ggmlType,
                    dtype: tensor.dtype, offset: tensor.offset, fileOffset: start,
                    byteCount: tensor.byteCount))
        }
        // Overlaps: after sorting by start, each non-empty range must begin at or after the
        // furthest end seen so far.
        let order = tensors.indices.filter { tensors[$0].byteCount > 0 }
            .sorted { tensors[$0].fileOffset < tensors[$1].fileOffset }
        var furthest: Int?
        for index in order {
            if let previous = furthest, tensors[index].fileOffset < tensors[previous].fileRange.upperBound {
                subject = "tensor '\(tensors[index].name)'"
                throw failure(
                    .malformed,
                    "data bytes \(tensors[index].fileRange) overlap those of tensor '\(tensors[previous].name)' (\(tensors[previous].fileRange))")
            }
            if furthest == nil || tensors[index].fileRange.upperBound > tensors[furthest!].fileRange.upperBound {
                furthest = index
            }
        }
        return tensors
    }

    // MARK: Values

    private mutating func readValue(_ type: GGUFValueType, depth: Int) throws -> MetadataValue {
        switch type {
        case .uint8: return .uint(UInt64(try read(UInt8.self, "a UINT8 value")))
        case .int8: return .int(Int64(try read(Int8.self, "an INT8 value")))
        case .uint16: return .uint(UInt64(try read(UInt16.self, "a UINT16 value")))
        case .int16: return .int(Int64(try read(Int16.self, "an INT16 value")))
        case .uint32: return .uint(UInt64(try read(UInt32.self, "a UINT32 value")))
        case .int32: return .int(Int64(try read(Int32.self, "an INT32 value")))
        case .uint64: return .uint(try read(UInt64.self, "a UINT64 value"))
        case .int64: return .int(try read(Int64.self, "an INT64 value"))
        case .float32: return .float(Double(Float(bitPattern: try read(UInt32.self, "a FLOAT32 value"))))
        case .float64: return .float(Double(bitPattern: try read(UInt64.self, "a FLOAT64 value")))
        case .bool:
            let byte = try read(UInt8.self, "a BOOL value")
            guard byte <= 1 else {
                throw failure(.malformed, "BOOL value at offset \(offset - 1) is \(byte); it must be 0 or 1")
            }
            return .bool(byte == 1)
        case .string:
            return .string(try readString("a string value", repairingUTF8: true))
        case .array:
            return try readArray(depth: depth + 1)
        }
    }

    private mutating func readArray(depth: Int) throws -> MetadataValue {
        guard depth <= Self.maximumArrayDepth else {
            throw failure(.unsupported, "arrays nested more than \(Self.maximumArrayDepth) levels deep")
        }
        let rawType = try read(UInt32.self, "the array element type")
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw failure(.malformed, "unknown array element type \(rawType) (GGUF defines types 0...12)")
        }
        let count = try readCount(
            try read(UInt64.self, "the array length"), each: elementType.minimumByteSize,
            what: "\(elementType.name) array elements")
        guard count <= valueBudget else {
            throw failure(
                .unsupported,
                "the metadata holds more than \(Self.maximumMetadataValues) values; such files are refused to bound memory")
        }
        valueBudget -= count
        var values: [MetadataValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            values.append(try readValue(elementType, depth: depth))
        }
        return .array(values, elementType: elementType.name)
    }

    // MARK: Primitives

    private func failure(_ code: MVLMError.Code, _ message: String) -> MVLMError {
        MVLMError(code, message, file: path, subject: subject)
    }

    private mutating func read<T: FixedWidthInteger>(
        _: T.Type, _ what: @autoclosure () -> String
    ) throws -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else {
            throw failure(
                .truncated,
                "the file ends at byte \(bytes.count) while reading \(what()) (\(size) bytes at offset \(offset))")
        }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset &+= size
        return T(littleEndian: value)
    }

    /// Checks that `count` items of at least `each` bytes fit in the rest of the file.
    private func readCount(_ count: UInt64, each: Int, what: @autoclosure () -> String) throws -> Int {
        let remaining = bytes.count - offset
        guard count <= UInt64(remaining / each) else {
            throw failure(
                .truncated,
                "declares \(count) \(what()) (at least \(each) bytes each) but only \(remaining) bytes remain after offset \(offset)")
        }
        return Int(count)
    }

    /// Reads a `uint64` length and that many bytes of UTF-8. Metadata string values with invalid
    /// UTF-8 are repaired (U+FFFD) and reported; keys and tensor names must be valid.
    private mutating func readString(_ what: String, repairingUTF8: Bool) throws -> String {
        let length = try read(UInt64.self, "the length of \(what)")
        let remaining = bytes.count - offset
        guard length <= UInt64(remaining) else {
            throw failure(
                .truncated,
                "the length of \(what) is \(length) bytes but only \(remaining) bytes remain after offset \(offset)")
        }
        let start = offset
        offset += Int(length)
        let units = UnsafeRawBufferPointer(rebasing: bytes[start..<offset]).assumingMemoryBound(to: UInt8.self)
        if let text = String(validating: units, as: UTF8.self) { return text }
        guard repairingUTF8 else {
            throw failure(.malformed, "\(what) at offset \(start) is not valid UTF-8")
        }
        repairedCurrentValue = true
        return String(decoding: units, as: UTF8.self)
    }
}
