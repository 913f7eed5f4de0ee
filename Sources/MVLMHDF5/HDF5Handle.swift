import CMVLMHDF5

/// Owns one libhdf5 identifier and closes it in `deinit`, under the library lock.
///
/// The identifier is only used inside `HDF5Library.withLock`; it is never handed out beyond
/// this module.
final class HDF5Handle: @unchecked Sendable {
    /// What the identifier names, which decides the close call.
    enum Kind: Sendable {
        case file, object, datatype, dataspace, attribute, propertyList
    }

    let id: hid_t
    private let kind: Kind

    /// Takes ownership of `id` (which must be valid).
    init(_ id: hid_t, kind: Kind) {
        precondition(id >= 0, "invalid HDF5 identifier")
        self.id = id
        self.kind = kind
    }

    deinit {
        let id = self.id
        let kind = self.kind
        HDF5Library.withLock {
            let status: herr_t =
                switch kind {
                case .file: H5Fclose(id)
                case .object: H5Oclose(id)
                case .datatype: H5Tclose(id)
                case .dataspace: H5Sclose(id)
                case .attribute: H5Aclose(id)
                case .propertyList: H5Pclose(id)
                }
            if status < 0 { HDF5Library.clearErrors() }
        }
    }
}
