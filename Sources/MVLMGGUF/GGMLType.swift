import MVLMCore

/// Maps ggml tensor type ids (`ggml_type`, as GGUF tensor infos store them) to `DType`.
enum GGMLType {
    /// The element type for a ggml type id, or `nil` when the toolkit cannot represent it.
    static func dtype(forID id: UInt32) -> DType? {
        switch id {
        case 0: .float32
        case 1: .float16
        case 24: .int8
        case 25: .int16
        case 26: .int32
        case 27: .int64
        case 28: .float64
        case 30: .bfloat16
        default: BlockType(ggmlTypeID: id).map { .block($0) }
        }
    }

    /// A name for ids that ggml defines (or once defined) but that `dtype(forID:)` does not map,
    /// so errors can say what the file holds.
    static func knownUnsupportedName(forID id: UInt32) -> String? {
        switch id {
        case 4: "Q4_2, removed from ggml"
        case 5: "Q4_3, removed from ggml"
        case 31: "Q4_0_4_4, removed from ggml"
        case 32: "Q4_0_4_8, removed from ggml"
        case 33: "Q4_0_8_8, removed from ggml"
        case 36: "IQ4_NL_4_4, removed from ggml"
        case 37: "IQ4_NL_4_8, removed from ggml"
        case 38: "IQ4_NL_8_8, removed from ggml"
        case 40: "NVFP4"
        case 41: "Q1_0"
        default: nil
        }
    }
}
