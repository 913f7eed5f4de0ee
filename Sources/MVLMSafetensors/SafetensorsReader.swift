import Foundation
import MVLMCore
import MVLMFileIO

/// Reads a `.safetensors` file: an 8-byte little-endian header length, a JSON header, then the
/// data section that the header's `data_offsets` index into.
///
/// The header is parsed and fully validated at `init` (header length capped at 100 MB; every tensor's
/// dtype known, shape non-negative and not overflowing, byte range inside the data section, equal to
/// dtype size × element count, and not overlapping another tensor). Tensor bytes are not touched until
/// `tensor(named:)`, which returns a zero-copy view into the file mapping.
public struct SafetensorsReader: TensorReader {
    /// Largest header the reader accepts (the reference implementation's limit).
    public static let maximumHeaderSize = 100_000_000

    public let formatName = "safetensors"
    public let path: String
    public let tensorInfos: [TensorInfo]
    /// `__metadata__` (string to string in the format), as `.string` values.
    public let metadata: [String: MetadataValue]
    /// Byte offset of the data section in the file (8 + header length).
    public let dataOffset: Int

    private let file: MappedFile
    private let entries: [String: Entry]

    struct Entry: Sendable {
        var info: TensorInfo
        var range: Range<Int>  // absolute byte range in the file
    }

    /// Opens and validates `path`.
    /// - Throws: `MVLMError` naming the file and the offending tensor when the file is not a valid
    ///   safetensors file.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        self.path = path
        let displayName = (path as NSString).lastPathComponent
        func fail(_ code: MVLMError.Code, _ message: String, tensor: String? = nil) -> MVLMError {
            MVLMError(code, message, file: path, subject: tensor.map { "tensor '\($0)'" })
        }

        guard file.count >= 8 else {
            throw fail(.truncated, "file has \(file.count) bytes; a safetensors file starts with an 8-byte header length")
        }
        let headerLength = file.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(SafetensorsReader.maximumHeaderSize) else {
            throw fail(.outOfBounds, "header length \(headerLength) exceeds the 100 MB limit (not a safetensors file, or corrupt)")
        }
        guard headerLength <= UInt64(file.count - 8) else {
            throw fail(.truncated, "header length \(headerLength) runs past the end of the file (\(file.count) bytes)")
        }
        let headerSize = Int(headerLength)
        let dataStart = 8 + headerSize
        self.dataOffset = dataStart
        let dataSize = file.count - dataStart

        let header: [String: HeaderEntry]
        do {
            let headerBytes = file.withUnsafeBytes { Data($0[8..<dataStart]) }
            guard headerBytes.first == UInt8(ascii: "{") else {
                throw fail(.malformed, "header does not start with '{' (not a safetensors file)")
            }
            header = try JSONDecoder().decode([String: HeaderEntry].self, from: headerBytes)
        } catch let error as MVLMError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context),
            let DecodingError.keyNotFound(_, context), let DecodingError.valueNotFound(_, context)
        {
            let path = context.codingPath.map(\.stringValue)
            throw fail(
                .malformed, "header is not valid safetensors JSON: \(context.debugDescription)",
                tensor: path.first)
        } catch {
            throw fail(.malformed, "header is not valid JSON (\(error))")
        }

        var metadata: [String: MetadataValue] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header {
            let fields: TensorFields
            switch value {
            case .metadata(let map):
                guard name == "__metadata__" else {
                    throw fail(.malformed, "entry has no 'dtype', 'shape' and 'data_offsets'", tensor: name)
                }
                metadata = map.mapValues { .string($0) }
                continue
            case .tensor(let tensorFields):
                guard name != "__metadata__" else {
                    throw fail(.malformed, "__metadata__ must map strings to strings")
                }
                fields = tensorFields
            }
            let dtypeName = fields.dtype
            guard let dtype = SafetensorsReader.dtype(named: dtypeName) else {
                throw fail(.unsupported, "unknown dtype '\(dtypeName)' (known: \(DType.scalarTypes.map(\.name).joined(separator: ", ")))", tensor: name)
            }
            let shape = fields.shape
            guard let elementCount = Shape.elementCount(shape) else {
                throw fail(.outOfBounds, "shape \(Shape.describe(shape)) has a negative dimension or its element count overflows", tensor: name)
            }
            guard fields.dataOffsets.count == 2 else {
                throw fail(.malformed, "'data_offsets' is not a pair of integers", tensor: name)
            }
            let (begin, end) = (fields.dataOffsets[0], fields.dataOffsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw fail(.outOfBounds, "data_offsets [\(begin), \(end)] lie outside the data section (\(dataSize) bytes)", tensor: name)
            }
            guard let expected = dtype.byteCount(elementCount: elementCount), expected == end - begin else {
                throw fail(
                    .malformed,
                    "data_offsets [\(begin), \(end)] hold \(end - begin) bytes but \(dtypeName) \(Shape.describe(shape)) needs \(dtype.byteCount(elementCount: elementCount).map(String.init) ?? "an overflowing number of")",
                    tensor: name)
            }
            let info = TensorInfo(name: name, dtype: dtype, shape: shape, byteCount: expected, file: displayName)
            entries[name] = Entry(info: info, range: (dataStart + begin)..<(dataStart + end))
        }

        // File order is data order; overlapping ranges are refused (empty tensors overlap nothing).
        let ordered = entries.values.sorted {
            ($0.range.lowerBound, $0.info.name) < ($1.range.lowerBound, $1.info.name)
        }
        var previous: Entry?
        for entry in ordered where !entry.range.isEmpty {
            if let previous, entry.range.lowerBound < previous.range.upperBound {
                throw fail(
                    .malformed,
                    "data range \(entry.range.lowerBound - dataStart)..<\(entry.range.upperBound - dataStart) overlaps tensor '\(previous.info.name)' (\(previous.range.lowerBound - dataStart)..<\(previous.range.upperBound - dataStart))",
                    tensor: entry.info.name)
            }
            previous = entry
        }
        self.entries = entries
        self.tensorInfos = ordered.map(\.info)
        self.metadata = metadata
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let entry = entries[name] else {
            throw MVLMError(.notFound, "no tensor named '\(name)'", file: path)
        }
        do {
            return try Tensor(storage: file.storage(for: entry.range), dtype: entry.info.dtype, shape: entry.info.shape)
        } catch let error as MVLMError {
            throw MVLMError(error.code, error.message, file: path, subject: "tensor '\(name)'")
        }
    }

    /// The absolute byte range of a tensor's data in the file.
    public func byteRange(of name: String) -> Range<Int>? { entries[name]?.range }

    static func dtype(named name: String) -> DType? {
        guard let type = DType(name: name), type.scalarByteSize != nil else { return nil }
        return type
    }

    struct TensorFields: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]
        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    /// A header value: a tensor entry, or the `__metadata__` string map.
    enum HeaderEntry: Decodable {
        case tensor(TensorFields)
        case metadata([String: String])

        init(from decoder: Decoder) throws {
            let keys = try decoder.container(keyedBy: AnyKey.self)
            if keys.contains(AnyKey(stringValue: "dtype")) || keys.contains(AnyKey(stringValue: "data_offsets")) {
                self = .tensor(try TensorFields(from: decoder))
            } else {
                self = .metadata(try [String: String](from: decoder))
            }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
