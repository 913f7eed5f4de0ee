/// A packed block format: `blockElements` weights stored in `blockBytes` bytes (after a header of
/// `rowHeaderBytes` per row, which only the toolkit's INT8_PC has).
///
/// The GGML/GGUF types carry their type id as GGUF files write it (`ggmlTypeID`). The layouts of
/// the formats the toolkit computes with are documented where they are implemented; the numbers
/// here are the facts every reader needs to bound-check a tensor.
public enum BlockType: String, Hashable, Sendable, CaseIterable {
    case q4_0 = "Q4_0"
    case q4_1 = "Q4_1"
    case q5_0 = "Q5_0"
    case q5_1 = "Q5_1"
    case q8_0 = "Q8_0"
    case q8_1 = "Q8_1"
    case q2_K = "Q2_K"
    case q3_K = "Q3_K"
    case q4_K = "Q4_K"
    case q5_K = "Q5_K"
    case q6_K = "Q6_K"
    case q8_K = "Q8_K"
    case iq2_XXS = "IQ2_XXS"
    case iq2_XS = "IQ2_XS"
    case iq3_XXS = "IQ3_XXS"
    case iq1_S = "IQ1_S"
    case iq4_NL = "IQ4_NL"
    case iq3_S = "IQ3_S"
    case iq2_S = "IQ2_S"
    case iq4_XS = "IQ4_XS"
    case iq1_M = "IQ1_M"
    case tq1_0 = "TQ1_0"
    case tq2_0 = "TQ2_0"
    case mxfp4 = "MXFP4"
    // The toolkit's own schemes (layouts in docs/quantization.md; no GGUF type id).
    /// Int8 in blocks of 32: f16 scale + 32 int8 (the Q8_0 layout, rounded against the stored scale).
    case int8Block32 = "INT8_B32"
    /// Affine int4, groups of 32: f16 scale, f16 min, 16 bytes of nibbles.
    case affine4G32 = "AFFINE4_G32"
    /// Affine int4, groups of 64: f16 scale, f16 min, 32 bytes of nibbles.
    case affine4G64 = "AFFINE4_G64"
    /// Affine int4, groups of 128: f16 scale, f16 min, 64 bytes of nibbles.
    case affine4G128 = "AFFINE4_G128"
    /// Int8 per output channel: per row an f32 scale, then one int8 per weight (a "block" is one
    /// weight; the row header makes a tensor's size depend on its row length, see ``rowByteCount(elements:)``).
    case int8PerChannel = "INT8_PC"

    /// The name as GGUF tools print it (`Q4_1`, `Q6_K`, ...).
    public var name: String { rawValue }

    public init?(name: String) { self.init(rawValue: name) }

    /// The `ggml_type` value GGUF files store for this block type; `nil` for the toolkit's own.
    public var ggmlTypeID: UInt32? {
        switch self {
        case .q4_0: 2
        case .q4_1: 3
        case .q5_0: 6
        case .q5_1: 7
        case .q8_0: 8
        case .q8_1: 9
        case .q2_K: 10
        case .q3_K: 11
        case .q4_K: 12
        case .q5_K: 13
        case .q6_K: 14
        case .q8_K: 15
        case .iq2_XXS: 16
        case .iq2_XS: 17
        case .iq3_XXS: 18
        case .iq1_S: 19
        case .iq4_NL: 20
        case .iq3_S: 21
        case .iq2_S: 22
        case .iq4_XS: 23
        case .iq1_M: 29
        case .tq1_0: 34
        case .tq2_0: 35
        case .mxfp4: 39
        case .int8Block32, .affine4G32, .affine4G64, .affine4G128, .int8PerChannel: nil
        }
    }

    /// Looks a block type up by its GGUF `ggml_type` id.
    public init?(ggmlTypeID: UInt32) {
        guard let type = BlockType.allCases.first(where: { $0.ggmlTypeID == ggmlTypeID }) else {
            return nil
        }
        self = type
    }

    /// Weights per block.
    public var blockElements: Int {
        switch self {
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_NL, .mxfp4, .int8Block32, .affine4G32: 32
        case .affine4G64: 64
        case .affine4G128: 128
        case .int8PerChannel: 1
        default: 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .q4_0: 18  // f16 d + 16 bytes of nibbles
        case .q4_1: 20  // f16 d, f16 m + 16
        case .q5_0: 22  // f16 d + 4 bytes high bits + 16
        case .q5_1: 24  // f16 d, f16 m + 4 + 16
        case .q8_0: 34  // f16 d + 32 int8
        case .q8_1: 36  // f16 d, f16 s + 32 int8
        case .q2_K: 84  // 16 scales + 64 qs + f16 d + f16 dmin
        case .q3_K: 110  // 32 hmask + 64 qs + 12 scales + f16 d
        case .q4_K: 144  // f16 d + f16 dmin + 12 scales + 128 qs
        case .q5_K: 176  // f16 d + f16 dmin + 12 scales + 32 qh + 128 qs
        case .q6_K: 210  // 128 ql + 64 qh + 16 scales + f16 d
        case .q8_K: 292  // f32 d + 256 int8 + 16 int16 bsums
        case .iq2_XXS: 66
        case .iq2_XS: 74
        case .iq3_XXS: 98
        case .iq1_S: 50
        case .iq4_NL: 18
        case .iq3_S: 110
        case .iq2_S: 82
        case .iq4_XS: 136
        case .iq1_M: 56
        case .tq1_0: 54
        case .tq2_0: 66
        case .mxfp4: 17
        case .int8Block32: 34
        case .affine4G32: 20
        case .affine4G64: 36
        case .affine4G128: 68
        case .int8PerChannel: 1
        }
    }

    /// Bytes stored once at the start of every row, before its blocks: 4 (the f32 scale) for
    /// INT8_PC, 0 for every other type.
    public var rowHeaderBytes: Int { self == .int8PerChannel ? 4 : 0 }

    /// The bytes of one row of `elements` weights (header included), or `nil` when `elements` is
    /// negative, not a whole number of blocks, or the size overflows.
    public func rowByteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockElements == 0 else { return nil }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        guard !overflow, bytes <= Int.max - rowHeaderBytes else { return nil }
        return bytes + rowHeaderBytes
    }

    /// Average storage cost in bits per weight (without the row header).
    public var bitsPerWeight: Double { Double(blockBytes * 8) / Double(blockElements) }
}
