import MVLMCore

/// A storage named by a persistent id: bytes `data/<key>` of the archive.
struct PickleStorage: Hashable {
    var key: String
    /// The element type of a typed storage (`torch.FloatStorage`), nil for `UntypedStorage`.
    var dtype: DType?
    /// Bytes the storage claims: numel × element size (typed) or numel (untyped).
    var byteCount: Int
    var location: String
}

/// A tensor built by `torch._utils._rebuild_tensor_v2/_v3`: a strided view of a storage.
struct PickleTensor {
    var storage: PickleStorage
    var dtype: DType
    /// Offset of element 0, in elements of `dtype`.
    var storageOffset: Int
    var shape: [Int]
    var strides: [Int]
}
