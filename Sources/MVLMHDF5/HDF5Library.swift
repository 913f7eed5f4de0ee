import CMVLMHDF5
import MVLMCore

/// The single gate to libhdf5.
///
/// libhdf5 is not thread-safe unless built so, and even a thread-safe build runs one call at a
/// time, so every call into it from this module runs inside `withLock`. Automatic stderr error
/// printing is turned off (`H5Eset_auto2(H5E_DEFAULT, NULL, NULL)`) for every thread that enters
/// the lock: Debian's "serial" libhdf5 is built thread-safe, which makes that setting per thread.
/// Failures are read back from the error stack (`H5Ewalk2`) and reported as `MVLMError`.
enum HDF5Library {
    private static let lock = HDF5Lock()

    /// Property lists created once and kept for the life of the process.
    private struct SetUp: Sendable {
        /// Link access that refuses external links.
        var linkAccess: hid_t
        /// File access with tolerant file locking.
        var fileAccess: hid_t
    }

    /// Set up on first use; always first touched inside `withLock`.
    private static let setUp: SetUp? = {
        guard cmvlm_h5_initialize_quietly() >= 0 else { return nil }
        let linkAccess = cmvlm_h5_create_link_access_without_external_links()
        let fileAccess = cmvlm_h5_create_file_access()
        guard linkAccess >= 0, fileAccess >= 0 else {
            clearErrors()
            return nil
        }
        return SetUp(linkAccess: linkAccess, fileAccess: fileAccess)
    }()

    /// Runs `body` while holding the process-wide HDF5 lock (re-entrant), with libhdf5's error
    /// printing turned off for the calling thread.
    static func withLock<R>(_ body: () throws -> R) rethrows -> R {
        try lock.withLock {
            cmvlm_h5_silence_errors_on_this_thread()
            return try body()
        }
    }

    private static func requireSetUp() throws -> SetUp {
        guard let setUp else {
            throw MVLMError(.io, "libhdf5 could not be initialized")
        }
        return setUp
    }

    /// The link-access property list to pass wherever HDF5 resolves a path: external links fail.
    /// Call inside `withLock`.
    static func linkAccess() throws -> hid_t { try requireSetUp().linkAccess }

    /// The file-access property list for `H5Fopen`. Call inside `withLock`.
    static func fileAccess() throws -> hid_t { try requireSetUp().fileAccess }

    /// Empties the error stack (after a failure that is expected and handled).
    static func clearErrors() {
        cmvlm_h5_walk_and_clear_errors({ _, _, _, _ in }, nil)
    }

    /// What the error stack says about the last failure, and whether libhdf5 classed it as a
    /// truncated file. Clears the stack. Call inside `withLock`.
    static func takeErrorStack() -> (detail: String?, truncated: Bool) {
        final class Collector {
            // Read before walking: the constant's macro calls into the library.
            let truncatedMinor = cmvlm_h5e_truncated()
            var descriptions: [String] = []
            var truncated = false
        }
        let collector = Collector()
        withExtendedLifetime(collector) {
            let context = Unmanaged.passUnretained(collector).toOpaque()
            cmvlm_h5_walk_and_clear_errors(
                { description, _, minor, context in
                    guard let context else { return }
                    let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                    if let description {
                        collector.descriptions.append(String(cString: description))
                    }
                    if minor == collector.truncatedMinor { collector.truncated = true }
                }, context)
        }
        // Innermost first; the two most specific distinct entries say what went wrong.
        var distinct: [String] = []
        for description in collector.descriptions {
            let line = description.split(whereSeparator: \.isNewline).joined(separator: " ")
            if !line.isEmpty, !distinct.contains(line) { distinct.append(line) }
            if distinct.count == 2 { break }
        }
        return (distinct.isEmpty ? nil : distinct.joined(separator: " < "), collector.truncated)
    }
}
