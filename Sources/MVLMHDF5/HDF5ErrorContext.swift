import CMVLMHDF5
import MVLMCore

/// Builds `MVLMError`s for one file, adding what libhdf5's error stack says.
struct HDF5ErrorContext: Sendable {
    /// The file as the caller named it.
    var file: String

    /// An error for a failed libhdf5 call: `message` plus the error stack's detail. Call inside
    /// `HDF5Library.withLock`, right after the failing call.
    func failure(_ code: MVLMError.Code, _ message: String, subject: String? = nil) -> MVLMError {
        let (detail, truncated) = HDF5Library.takeErrorStack()
        var text = message
        if let detail { text += " (libhdf5: \(detail))" }
        return MVLMError(truncated ? .truncated : code, text, file: file, subject: subject)
    }

    /// An error that does not come from a libhdf5 call.
    func error(_ code: MVLMError.Code, _ message: String, subject: String? = nil) -> MVLMError {
        MVLMError(code, message, file: file, subject: subject)
    }

    /// Wraps a new identifier in an owner that closes it, or throws `failure` when it is invalid.
    func handle(
        _ id: hid_t, _ kind: HDF5Handle.Kind, _ code: MVLMError.Code,
        _ message: @autoclosure () -> String,
        subject: String? = nil
    ) throws -> HDF5Handle {
        guard id >= 0 else { throw failure(code, message(), subject: subject) }
        return HDF5Handle(id, kind: kind)
    }

    /// Throws `failure` when a libhdf5 status is negative.
    func check(
        _ status: herr_t, _ code: MVLMError.Code, _ message: @autoclosure () -> String,
        subject: String? = nil
    ) throws {
        guard status >= 0 else { throw failure(code, message(), subject: subject) }
    }

    /// Opens the object at `path` relative to `parent` with external links refused
    /// (`H5Oopen`). Call inside `HDF5Library.withLock`.
    func openObject(
        _ parent: hid_t, _ path: String, _ code: MVLMError.Code,
        _ message: @autoclosure () -> String,
        subject: String?
    ) throws -> HDF5Handle {
        let linkAccess = try HDF5Library.linkAccess()
        return try handle(
            H5Oopen(parent, path, linkAccess), .object, code, message(), subject: subject)
    }
}
