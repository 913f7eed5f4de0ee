import CMVLMHDF5
import MVLMCore

/// What listing learns about a dataset from its metadata alone (type, dataspace, layout).
struct HDF5DatasetDescription: Sendable, Codable {
    /// Where a tensor's bytes come from.
    enum Storage: Sendable, Equatable, Codable {
        /// Contiguous, unfiltered, allocated, little-endian: a view into the file mapping at this
        /// byte offset (already relative to the start of the file, user block included).
        case mapped(offset: Int)
        /// Chunked, compressed, compact, big-endian or unallocated: read through `H5Dread` into
        /// owned memory. `storedBytes` is what the file holds for it (`H5Dget_storage_size`).
        case read(storedBytes: Int)
    }

    var element: HDF5ElementType
    var shape: [Int]
    var byteCount: Int
    var storage: Storage

    /// Deflate cannot expand data more than ~1032x; a read that would produce more than this
    /// multiple of the stored bytes (plus `expansionAllowance`) is refused instead of allocated.
    static let maximumExpansion = 1100
    static let expansionAllowance = 16 << 20

    /// Describes an open dataset. Call inside `HDF5Library.withLock`.
    /// - Throws: `.unsupported` for element types, dataspaces and storage kinds this reader does
    ///   not read; `.outOfBounds` for sizes that overflow; `.malformed` when libhdf5 fails.
    init(dataset: hid_t, context: HDF5ErrorContext, subject: String) throws {
        let type = try context.handle(
            H5Dget_type(dataset), .datatype, .malformed, "cannot read the datatype",
            subject: subject)
        element = try HDF5ElementType(
            classifying: type.id,
            hasBFloat16Marker: {
                try HDF5AttributeReader.value(
                    of: dataset, named: "dtype", context: context, subject: subject)?.stringValue
                    == "bfloat16"
            },
            context: context, subject: subject)
        shape = try HDF5DatasetDescription.shape(of: dataset, context: context, subject: subject)
        guard let count = Shape.elementCount(shape),
            let bytes = element.dtype.byteCount(elementCount: count)
        else {
            throw context.error(
                .outOfBounds, "shape \(Shape.describe(shape)) overflows the address space",
                subject: subject)
        }
        byteCount = bytes

        let creation = try context.handle(
            H5Dget_create_plist(dataset), .propertyList, .malformed,
            "cannot read the dataset creation properties", subject: subject)
        let layout = H5Pget_layout(creation.id)
        if layout == H5D_VIRTUAL {
            throw context.error(
                .unsupported, "virtual datasets (data mapped from other files) are refused",
                subject: subject)
        }
        let externalFiles = H5Pget_external_count(creation.id)
        if externalFiles != 0 {
            throw context.error(
                .unsupported,
                "raw data kept in external files is refused (reading it would open other files)",
                subject: subject)
        }
        let filters = H5Pget_nfilters(creation.id)
        guard layout != H5D_LAYOUT_ERROR, filters >= 0 else {
            throw context.failure(.malformed, "cannot read the storage layout", subject: subject)
        }
        let storedBytes = H5Dget_storage_size(dataset)
        var status = H5D_SPACE_STATUS_ERROR
        try context.check(
            H5Dget_space_status(dataset, &status), .malformed, "cannot read the allocation status",
            subject: subject)
        // libhdf5 1.10 reads compact data with the dataspace's size, not the stored one, and
        // crashes when they differ; an allocated contiguous extent must also match exactly.
        let storageMustMatch =
            layout == H5D_COMPACT
            || (layout == H5D_CONTIGUOUS && status == H5D_SPACE_STATUS_ALLOCATED && filters == 0)
        if storageMustMatch, storedBytes != UInt64(bytes) {
            throw context.error(
                .malformed,
                "stores \(storedBytes) bytes for \(Shape.describe(shape)) \(element.dtype.name) "
                    + "data (\(bytes) bytes)",
                subject: subject)
        }
        // H5Dget_offset adds the file's base address, so user blocks are accounted for.
        let offset = H5Dget_offset(dataset)
        if layout == H5D_CONTIGUOUS, filters == 0, status == H5D_SPACE_STATUS_ALLOCATED,
            element.isStoredLittleEndian, offset != cmvlm_haddr_undef(),
            storedBytes == UInt64(bytes), let start = Int(exactly: offset)
        {
            storage = .mapped(offset: start)
        } else {
            // H5Dget_offset reports failure through the error stack; nothing to keep.
            HDF5Library.clearErrors()
            storage = .read(storedBytes: Int(clamping: storedBytes))
        }
    }

    /// The dataset's dimensions (`[]` for a scalar dataspace).
    private static func shape(
        of dataset: hid_t, context: HDF5ErrorContext, subject: String
    ) throws -> [Int] {
        let space = try context.handle(
            H5Dget_space(dataset), .dataspace, .malformed, "cannot read the dataspace",
            subject: subject)
        switch H5Sget_simple_extent_type(space.id) {
        case H5S_SCALAR:
            return []
        case H5S_SIMPLE:
            let rank = H5Sget_simple_extent_ndims(space.id)
            guard rank >= 0, rank <= 32 else {
                throw context.failure(
                    .malformed, "invalid dataspace rank \(rank)", subject: subject)
            }
            var dimensions = [hsize_t](repeating: 0, count: Int(rank))
            guard H5Sget_simple_extent_dims(space.id, &dimensions, nil) == rank else {
                throw context.failure(.malformed, "cannot read the dimensions", subject: subject)
            }
            return try dimensions.map { dimension in
                guard let value = Int(exactly: dimension) else {
                    throw context.error(
                        .outOfBounds, "dimension \(dimension) does not fit in Int", subject: subject
                    )
                }
                return value
            }
        case H5S_NULL:
            throw context.error(
                .unsupported, "null dataspace (an h5py.Empty dataset) holds no array",
                subject: subject)
        default:
            throw context.failure(.malformed, "cannot read the dataspace class", subject: subject)
        }
    }
}
