import MVLMCore

/// Everything a GGUF file declares before its tensor data, validated.
struct GGUFLayout {
    var version: UInt32
    var alignment: Int
    var dataOffset: Int
    var entries: [GGUFMetadataEntry]
    var tensors: [GGUFTensorInfo]
    var keysWithRepairedUTF8: [String]
}
