import Foundation
import MVLMCore
import MVLMFileIO

/// Reads tensors from an HDF5 file through libhdf5: Keras 3 `.weights.h5`, Keras 2 / Hugging
/// Face `tf_model.h5` (and `model.save` `.h5`), or any HDF5 file with numeric datasets.
///
/// libhdf5 runs in a child process, never in the caller's (`HDF5Worker`, found as
/// `HDF5WorkerProcess` describes): a corrupted file can crash libhdf5, and that must end only
/// the worker. Opening checks the signature, maps the file, and asks the worker for the
/// catalogue: the layout (`HDF5Layout`), every tensor from metadata alone (links, attributes,
/// datatypes, dataspaces, storage layout), the root attributes as `metadata`, plus `layout` and,
/// for Keras files, `optimizer_tensor_count`. Tensor data is read only by `tensor(named:)`: a
/// contiguous, unfiltered, allocated little-endian dataset comes back as a view into this
/// process's read-only mapping of the file (bounds-checked here, no copy, no worker); anything
/// else (chunked, compressed, compact, big-endian) is decoded by a worker with `H5Dread` and
/// streamed into memory the tensor owns, no more than the listed size. A worker that crashes
/// or stalls is a clean `MVLMError` naming the file. Keras optimizer state is listed, not
/// skipped: `optimizer/vars/<i>` (Keras 3) and `optimizer_weights/<weight name>` (legacy). See
/// Formats/hdf5.md for the rules and docs/reliability.md for the isolation and its cost.
public struct HDF5Reader: TensorReader {
    /// Always `"hdf5"`.
    public var formatName: String { "hdf5" }
    /// The path as given to `init(path:)`.
    public let path: String
    /// The detected layout (also in `metadata["layout"]`).
    public let layout: HDF5Layout
    public let tensorInfos: [TensorInfo]
    /// Root attributes (strings, numbers, bools and arrays of them), `layout`, for Keras files
    /// `optimizer_tensor_count`, for `model.save` files `model_weights/<attribute>`, and for
    /// generic files with datasets that cannot be tensors `unsupported_datasets` (path: reason).
    public let metadata: [String: MetadataValue]

    private let mapping: MappedFile
    private let entries: [HDF5Entry]
    private let positions: [String: Int]
    private let refused: [String: MVLMError]

    /// Opens and lists an HDF5 file.
    /// - Parameter path: the file to read.
    /// - Throws: `MVLMError` naming the file: `.io` when it cannot be opened or mapped,
    ///   `.truncated` for an empty or truncated file, `.malformed` when it is not HDF5 or libhdf5
    ///   cannot parse it, `.notFound` when a Keras name list names a missing layer or weight,
    ///   `.unsupported` for a Keras weight of an unsupported type, storage or dataspace.
    public init(path: String) throws {
        let context = HDF5ErrorContext(file: path)
        let mapping = try MappedFile(path: path)
        try HDF5Reader.checkSignature(mapping, context: context)
        var json: [UInt8] = []
        let (outcome, _) = try HDF5WorkerProcess.run(["catalog", path], file: path) { chunk in
            guard json.count + chunk.count <= HDF5Reader.maximumCatalogBytes else {
                throw context.error(
                    .outOfBounds,
                    "the HDF5 catalogue exceeds \(HDF5Reader.maximumCatalogBytes) bytes of JSON")
            }
            json += chunk
        }
        guard case .exited(0) = outcome else { throw HDF5WorkerProcess.failure(outcome, file: path) }
        guard let message = try? JSONDecoder().decode(HDF5WorkerMessage.self, from: Data(json)) else {
            throw context.error(
                .malformed, "the HDF5 worker's catalogue cannot be read (\(json.count) bytes; is MVLM_HDF5_WORKER an mvlm binary?)")
        }
        if let error = message.error { throw error.error(file: path) }
        guard let layoutName = message.layout, let layout = HDF5Layout(rawValue: layoutName),
            let entries = message.entries
        else {
            throw context.error(.malformed, "the HDF5 worker returned an incomplete catalogue")
        }
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        self.path = path
        self.mapping = mapping
        self.layout = layout
        self.metadata = (message.metadata ?? [:]).mapValues(\.value)
        self.entries = entries
        self.refused = (message.refused ?? [:]).mapValues { $0.error(file: path) }
        self.tensorInfos = entries.map {
            TensorInfo(
                name: $0.name, dtype: $0.description.element.dtype, shape: $0.description.shape,
                byteCount: $0.description.byteCount, file: fileName)
        }
        self.positions = Dictionary(
            entries.enumerated().map { ($0.element.name, $0.offset) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The catalogue a worker may hand back, at most (JSON bytes).
    static let maximumCatalogBytes = 1 << 30

    /// The worker executable set by the program (the `mvlm` binary sets itself), consulted
    /// after the `MVLM_HDF5_WORKER` environment variable and before searching next to the running
    /// executable (see `HDF5WorkerProcess`). Set it once at start-up, before opening files.
    public nonisolated(unsafe) static var workerExecutable: String?

    /// The tensor's data: a view into the file mapping when the dataset is stored contiguously,
    /// unfiltered and little-endian, otherwise a copy read with `H5Dread`.
    /// - Throws: `MVLMError` naming the file and tensor: `.notFound` for an unknown name,
    ///   `.unsupported` for a dataset of a generic file that cannot be a tensor, `.outOfBounds`
    ///   when the data lies outside the file or would expand implausibly, `.malformed` when
    ///   libhdf5 cannot read it (a corrupt chunk).
    public func tensor(named name: String) throws -> Tensor {
        guard let position = positions[name] else {
            if let refusal = refused[name] { throw refusal }
            throw MVLMError(
                .notFound, "no tensor with this name (\(entries.count) listed)", file: path,
                subject: name)
        }
        let entry = entries[position]
        let description = entry.description
        let context = HDF5ErrorContext(file: path)
        switch description.storage {
        case .mapped(let offset):
            let (end, overflow) = offset.addingReportingOverflow(description.byteCount)
            guard !overflow, offset >= 0, end <= mapping.count else {
                throw context.error(
                    .outOfBounds,
                    "data at bytes \(offset)..<\(overflow ? Int.max : end) lies outside the file "
                        + "(\(mapping.count) bytes)",
                    subject: name)
            }
            return try makeTensor(mapping.storage(for: offset..<end), description, name: name)
        case .read(let storedBytes):
            // Sparse or highly compressed data: do not allocate what the file cannot back.
            let (product, overflow) = storedBytes.multipliedReportingOverflow(
                by: HDF5DatasetDescription.maximumExpansion)
            let (limit, overflowAgain) = product.addingReportingOverflow(
                HDF5DatasetDescription.expansionAllowance)
            guard overflow || overflowAgain || description.byteCount <= limit else {
                throw context.error(
                    .outOfBounds,
                    "declares \(description.byteCount) bytes of data but stores only "
                        + "\(storedBytes) in the file; refusing to expand it",
                    subject: name)
            }
            let storage = try readThroughWorker(entry)
            return try makeTensor(storage, description, name: name)
        }
    }

    /// Has a worker decode the dataset and streams exactly its listed size into owned memory.
    private func readThroughWorker(_ entry: HDF5Entry) throws -> TensorStorage {
        let name = entry.name
        let byteCount = entry.description.byteCount
        let request = String(decoding: try JSONEncoder().encode(entry), as: UTF8.self)
        var received = 0
        var outcome = HDF5WorkerProcess.Outcome.exited(0)
        var standardError: [UInt8] = []
        let storage = try TensorStorage(byteCount: byteCount) { buffer in
            (outcome, standardError) = try HDF5WorkerProcess.run(
                ["read", path, request], file: path, extraSeconds: Double(byteCount >> 24)
            ) {
                chunk in
                guard chunk.count <= byteCount - received else {
                    throw MVLMError(
                        .malformed, "the HDF5 worker sent more than the listed \(byteCount) bytes",
                        file: path, subject: name)
                }
                buffer.baseAddress!.advanced(by: received).copyMemory(
                    from: chunk.baseAddress!, byteCount: chunk.count)
                received += chunk.count
            }
        }
        switch outcome {
        case .exited(0) where received == byteCount:
            return storage
        case .exited(0):
            throw MVLMError(
                .malformed, "the HDF5 worker sent \(received) of \(byteCount) bytes", file: path,
                subject: name)
        case .exited(1):
            if let message = try? JSONDecoder().decode(HDF5WorkerMessage.self, from: Data(standardError)),
                let error = message.error
            {
                var error = error.error(file: path)
                error.subject = error.subject ?? name
                throw error
            }
            throw HDF5WorkerProcess.failure(outcome, file: path, subject: name)
        default:
            throw HDF5WorkerProcess.failure(outcome, file: path, subject: name)
        }
    }

    private func makeTensor(
        _ storage: TensorStorage, _ description: HDF5DatasetDescription, name: String
    ) throws -> Tensor {
        do {
            return try Tensor(
                storage: storage, dtype: description.element.dtype, shape: description.shape)
        } catch var error as MVLMError {
            error.subject = error.subject ?? name
            throw error.inFile(path)
        }
    }

    /// Checks for the HDF5 signature at offset 0 or after a user block (512, 1024, 2048, ...)
    /// before libhdf5 sees the file, so that non-HDF5 input gets a clear error.
    private static func checkSignature(_ mapping: MappedFile, context: HDF5ErrorContext) throws
    {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        guard mapping.count > 0 else {
            throw context.error(
                .truncated, "empty file (an HDF5 file starts with an 8-byte signature)")
        }
        let found = mapping.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset <= bytes.count - signature.count {
                if bytes[offset..<(offset + signature.count)].elementsEqual(signature) {
                    return true
                }
                offset = offset == 0 ? 512 : offset * 2
            }
            return false
        }
        guard found else {
            throw context.error(
                .malformed,
                "not an HDF5 file: no signature \\x89HDF\\r\\n\\x1A\\n at offset 0, 512, 1024, ...")
        }
    }
}
