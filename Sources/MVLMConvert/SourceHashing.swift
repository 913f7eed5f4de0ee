import Dispatch
import MVLMCheckpoint

/// The SHA-256 of a checkpoint's files, computed on a thread of its own from the moment it is
/// made (`ModelConverter.convert` starts it, streams the tensors, then takes the result), so the
/// hashing overlaps the conversion instead of adding a pass after it.
final class SourceHashing: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    // Written once by the hashing thread before `done` is signalled; read after waiting on it.
    private var outcome: Result<[String: String], any Error> = .success([:])

    /// Starts hashing `paths` (file name → path).
    init(_ paths: [String: String]) {
        DispatchQueue.global(qos: .utility).async { [self] in
            outcome = Result { try Checkpoint.sha256Digests(of: paths) }
            done.signal()
        }
    }

    /// The digests by file name, once every file is hashed.
    /// - Throws: the `MVLMError` of a file that could not be read.
    func result() throws -> [String: String] {
        done.wait()
        done.signal()  // a second call returns at once
        return try outcome.get()
    }
}
