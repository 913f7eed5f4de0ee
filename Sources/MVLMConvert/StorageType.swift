import MVLMCore
import MVLMQuant

/// How one tensor is stored in the output: kept as the source has it, cast to a float type, or
/// quantized with a scheme.
public enum StorageType: Hashable, Sendable, CustomStringConvertible {
    /// The source's own dtype (for blocks already in a wanted scheme: copied through unchanged).
    case keep
    /// Cast to F32, F16 or BF16.
    case float(DType)
    /// Quantized with a scheme (GGUF block types or the toolkit's own).
    case quantized(QuantizationScheme)

    /// Parses `F32`, `F16`, `BF16`, `keep`, or a scheme name (`Q4_K`, `Q8_0`, `INT8_B32`, `AFFINE4_G64`...),
    /// case-insensitively.
    public init?(name: String) {
        let upper = name.uppercased()
        switch upper {
        case "KEEP": self = .keep
        case "F32": self = .float(.float32)
        case "F16": self = .float(.float16)
        case "BF16": self = .float(.bfloat16)
        default:
            guard let scheme = QuantizationScheme(name: upper) else { return nil }
            self = .quantized(scheme)
        }
    }

    public var description: String {
        switch self {
        case .keep: "keep"
        case .float(let dtype): dtype.name
        case .quantized(let scheme): scheme.name
        }
    }

    /// Elements per block along a row (1 for float types).
    public var rowMultiple: Int {
        if case .quantized(let scheme) = self { return scheme.blockElements }
        return 1
    }

    /// Every name `init(name:)` accepts, for help texts.
    public static var allNames: [String] {
        ["keep", "F32", "F16", "BF16"] + QuantizationScheme.allSchemes.map(\.name)
    }
}

/// Encoded by name (`"keep"`, `"F16"`, `"Q4_K"`, `"INT8_PC"`), as `init(name:)` reads it.
extension StorageType: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let storage = StorageType(name: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown storage type '\(name)'")
        }
        self = storage
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension StorageType {
    /// The dtype a tensor of `sourceDType` has once stored this way.
    /// - Throws: `MVLMError` (`.unsupported`) for a scheme no dtype names.
    public func outputDType(sourceDType: DType) throws -> DType {
        switch self {
        case .keep: return sourceDType
        case .float(let dtype): return dtype
        case .quantized(let scheme):
            guard let block = scheme.blockType ?? BlockType(name: scheme.name) else {
                throw MVLMError(.unsupported, "\(scheme.name) cannot be stored in a file yet")
            }
            return .block(block)
        }
    }
}
