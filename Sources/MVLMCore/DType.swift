/// The element type of a tensor as a checkpoint stores it.
///
/// Scalar cases are spelled as safetensors spells them (`name`: `F32`, `BF16`, `I64`, ...).
/// Packed quantized formats are `.block(_)`: a tensor of such a type is a sequence of fixed-size
/// blocks, each holding `BlockType.blockElements` weights in `BlockType.blockBytes` bytes.
public enum DType: Hashable, Sendable {
    case float64, float32, float16, bfloat16
    case float8E4M3, float8E5M2
    case int64, int32, int16, int8
    case uint64, uint32, uint16, uint8
    case bool
    /// A packed block format (GGUF's quantized types, later the toolkit's own schemes).
    case block(BlockType)

    /// Every scalar (non-block) type.
    public static let scalarTypes: [DType] = [
        .float64, .float32, .float16, .bfloat16, .float8E4M3, .float8E5M2,
        .int64, .int32, .int16, .int8, .uint64, .uint32, .uint16, .uint8, .bool,
    ]

    /// The name used in tables and JSON: safetensors' spelling for scalars, GGUF's for blocks.
    public var name: String {
        switch self {
        case .float64: "F64"
        case .float32: "F32"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .float8E4M3: "F8_E4M3"
        case .float8E5M2: "F8_E5M2"
        case .int64: "I64"
        case .int32: "I32"
        case .int16: "I16"
        case .int8: "I8"
        case .uint64: "U64"
        case .uint32: "U32"
        case .uint16: "U16"
        case .uint8: "U8"
        case .bool: "BOOL"
        case .block(let type): type.name
        }
    }

    /// Parses a name as written by `name` (safetensors spelling or a GGUF block type name).
    public init?(name: String) {
        if let scalar = DType.scalarTypes.first(where: { $0.name == name }) {
            self = scalar
        } else if let block = BlockType(name: name) {
            self = .block(block)
        } else {
            return nil
        }
    }

    /// Bytes per element for scalar types; `nil` for block types.
    public var scalarByteSize: Int? {
        switch self {
        case .float64, .int64, .uint64: 8
        case .float32, .int32, .uint32: 4
        case .float16, .bfloat16, .int16, .uint16: 2
        case .float8E4M3, .float8E5M2, .int8, .uint8, .bool: 1
        case .block: nil
        }
    }

    /// True for the floating-point scalar types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16, .float8E4M3, .float8E5M2: true
        default: false
        }
    }

    /// The number of bytes that `elementCount` elements occupy, or `nil` when the count is not a
    /// whole number of blocks, the product overflows, or the size depends on the row length (a
    /// block type with a row header, INT8_PC: use ``byteCount(shape:)``).
    public func byteCount(elementCount: Int) -> Int? {
        guard elementCount >= 0 else { return nil }
        switch self {
        case .block(let type):
            guard type.rowHeaderBytes == 0, elementCount % type.blockElements == 0 else { return nil }
            let (bytes, overflow) = (elementCount / type.blockElements)
                .multipliedReportingOverflow(by: type.blockBytes)
            return overflow ? nil : bytes
        default:
            let (bytes, overflow) = elementCount.multipliedReportingOverflow(by: scalarByteSize!)
            return overflow ? nil : bytes
        }
    }
}

extension DType {
    /// The number of bytes a contiguous tensor of `shape` occupies, or `nil` when the shape does not
    /// fit the type or the size overflows. Equal to `byteCount(elementCount:)` of the element count
    /// except for a block type with a row header (INT8_PC), where every row of `shape.last`
    /// elements (a scalar or a vector is one row) carries its header.
    public func byteCount(shape: [Int]) -> Int? {
        guard let count = Shape.elementCount(shape) else { return nil }
        guard case .block(let type) = self, type.rowHeaderBytes > 0 else { return byteCount(elementCount: count) }
        let rowLength = shape.last ?? 1
        guard rowLength > 0 else { return 0 }
        guard let rowBytes = type.rowByteCount(elements: rowLength) else { return nil }
        let (bytes, overflow) = (count / rowLength).multipliedReportingOverflow(by: rowBytes)
        return overflow ? nil : bytes
    }
}

extension DType: CustomStringConvertible {
    public var description: String { name }
}

extension DType: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let type = DType(name: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown dtype '\(name)'")
        }
        self = type
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
