import CMVLMHDF5
import MVLMCore
import MVLMFileIO

/// Reads tensors from an HDF5 file through libhdf5: Keras 3 `.weights.h5`, Keras 2 / Hugging
/// Face `tf_model.h5` (and `model.save` `.h5`), or any HDF5 file with numeric datasets.
///
/// Opening detects the layout (`HDF5Layout`), lists every tensor from metadata alone (links,
/// attributes, datatypes, dataspaces, storage layout) and collects the root attributes as
/// `metadata`, plus `layout` and, for Keras files, `optimizer_tensor_count`. Tensor data is read
/// only by `tensor(named:)`: a contiguous, unfiltered, allocated little-endian dataset comes back
/// as a view into a read-only mapping of the file (no copy); anything else (chunked,
/// compressed, compact, big-endian) is read with `H5Dread` into memory the tensor owns.
///
/// Keras optimizer state is listed, not skipped: `optimizer/vars/<i>` (Keras 3) and
/// `optimizer_weights/<weight name>` (legacy). Every libhdf5 call is serialized through one
/// process-wide lock (libhdf5 is not thread-safe unless built so), so readers may be used from
/// any thread, and libhdf5 never prints its error stacks. See Formats/hdf5.md for the rules.
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

    private let file: HDF5Handle
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
        let (file, catalog) = try HDF5Library.withLock {
            let fileAccess = try HDF5Library.fileAccess()
            let file = try context.handle(
                H5Fopen(path, cmvlm_h5f_acc_rdonly(), fileAccess), .file, .malformed,
                "libhdf5 cannot open the file")
            return (file, try HDF5Catalog(file: file, context: context))
        }
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        self.path = path
        self.file = file
        self.mapping = mapping
        self.layout = catalog.layout
        self.metadata = catalog.metadata
        self.entries = catalog.entries
        self.refused = catalog.refused
        self.tensorInfos = catalog.entries.map {
            TensorInfo(
                name: $0.name, dtype: $0.description.element.dtype, shape: $0.description.shape,
                byteCount: $0.description.byteCount, file: fileName)
        }
        self.positions = Dictionary(
            catalog.entries.enumerated().map { ($0.element.name, $0.offset) },
            uniquingKeysWith: { first, _ in first })
    }

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
            let storage = try HDF5Library.withLock {
                try read(entry, context: context)
            }
            return try makeTensor(storage, description, name: name)
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

    /// Reads a dataset with `H5Dread` into owned memory. Call inside `HDF5Library.withLock`.
    private func read(_ entry: HDF5Entry, context: HDF5ErrorContext) throws -> TensorStorage {
        let name = entry.name
        let description = entry.description
        var opened: [HDF5Handle] = []
        var parent = file.id
        for step in entry.location {
            let object = try context.openObject(
                parent, step, .malformed, "cannot open", subject: name)
            opened.append(object)
            parent = object.id
        }
        guard let dataset = opened.last, H5Iget_type(dataset.id) == H5I_DATASET else {
            throw context.error(.malformed, "is no longer a dataset", subject: name)
        }
        // H5Dread writes every element of the dataspace: check it still matches the buffer.
        let space = try context.handle(
            H5Dget_space(dataset.id), .dataspace, .malformed, "cannot read the dataspace",
            subject: name)
        let points = H5Sget_simple_extent_npoints(space.id)
        guard let count = Shape.elementCount(description.shape), points == count else {
            throw context.error(
                .malformed,
                "dataspace has \(points) elements, listed with shape "
                    + Shape.describe(description.shape), subject: name)
        }
        let fileType = try context.handle(
            H5Dget_type(dataset.id), .datatype, .malformed, "cannot read the datatype",
            subject: name)
        let memoryType = try description.element.memoryType(
            fileType: fileType.id, context: context, subject: name)
        guard H5Tget_size(memoryType.id) == description.element.dtype.scalarByteSize else {
            throw context.error(.malformed, "element size changed since listing", subject: name)
        }
        return try TensorStorage(byteCount: description.byteCount) { buffer in
            guard description.byteCount > 0 else { return }
            try context.check(
                H5Dread(
                    dataset.id, memoryType.id, cmvlm_h5s_all(), cmvlm_h5s_all(),
                    cmvlm_h5p_default(),
                    buffer.baseAddress),
                .malformed, "libhdf5 cannot read the data", subject: name)
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
