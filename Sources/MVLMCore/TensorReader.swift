/// An opened checkpoint: its tensor table, its metadata, and lazy access to tensor data.
///
/// Readers parse and validate headers when opened; tensor bytes are touched only by `tensor(named:)`.
/// Every format module provides one conforming type.
public protocol TensorReader: Sendable {
    /// The format's name as `mvlm inspect` prints it (`safetensors`, `pytorch`, `gguf`, `hdf5`).
    var formatName: String { get }
    /// Every tensor, in the order the file lists them.
    var tensorInfos: [TensorInfo] { get }
    /// Format-level metadata (safetensors `__metadata__`, GGUF key-values, HDF5 attributes).
    var metadata: [String: MetadataValue] { get }
    /// The tensor's data as a view into the file (or a copy where the format forces one).
    /// - Throws: `MVLMError` (`.notFound`) for an unknown name, or when the data is invalid.
    func tensor(named name: String) throws -> Tensor
}
