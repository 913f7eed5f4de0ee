#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMVLMHDF5
import Foundation
import MVLMCore

/// The child-process side of `HDF5Reader`: the only code that calls libhdf5.
///
/// libhdf5 is not hardened against hostile files (a one-byte change can make it free a garbage
/// pointer), so `HDF5Reader` never calls it in its own process. It runs an executable that
/// hands its arguments to `run(_:)` (the `mvlm` binary does this for
/// `mvlm __hdf5-worker ...`; see `HDF5WorkerProcess` for how the executable is found). A
/// crash, hang or runaway allocation then ends the worker, not the caller.
///
/// Two requests, each one process:
/// - `catalog PATH`: lists the file (`HDF5Catalog`) and prints an `HDF5WorkerMessage` as JSON on
///   standard output (exit 0, also when the file is refused: the message then holds the error).
/// - `read PATH ENTRY-JSON`: reads one dataset with `H5Dread` (chunked, filtered, compact or
///   big-endian data) and writes exactly its bytes to standard output (exit 0), or an
///   `HDF5WorkerMessage` holding the error to standard error (exit 1).
public enum HDF5Worker {
    /// The first argument that makes `mvlm` run the worker instead of its commands.
    public static let commandName = "__hdf5-worker"

    /// Runs one worker request and returns the process exit status.
    /// - Parameter arguments: the arguments after `commandName`.
    public static func run(_ arguments: [String]) -> Int32 {
        // The worker writes only to its pipes; a closed pipe must end it quietly.
        signal(SIGPIPE, SIG_IGN)
        switch (arguments.first, arguments.count) {
        case ("catalog", 2):
            let path = arguments[1]
            let message: HDF5WorkerMessage
            do {
                message = try catalog(path: path)
            } catch let error as MVLMError {
                message = HDF5WorkerMessage(error: .init(error))
            } catch {
                message = HDF5WorkerMessage(error: .init(MVLMError(.malformed, "\(error)")))
            }
            return write(message, to: STDOUT_FILENO) ? 0 : 2
        case ("read", 3):
            do {
                let entry = try JSONDecoder().decode(HDF5Entry.self, from: Data(arguments[2].utf8))
                let storage = try read(path: arguments[1], entry: entry)
                let written = storage.withUnsafeBytes { bytes in
                    writeAll(bytes, to: STDOUT_FILENO)
                }
                return written ? 0 : 2
            } catch let error as MVLMError {
                _ = write(HDF5WorkerMessage(error: .init(error)), to: STDERR_FILENO)
                return 1
            } catch {
                let wrapped = MVLMError(.malformed, "bad worker request: \(error)")
                _ = write(HDF5WorkerMessage(error: .init(wrapped)), to: STDERR_FILENO)
                return 1
            }
        default:
            let usage = "usage: \(commandName) catalog PATH | \(commandName) read PATH ENTRY-JSON\n"
            _ = usage.utf8CString.withUnsafeBytes { writeAll(UnsafeRawBufferPointer(rebasing: $0.dropLast()), to: STDERR_FILENO) }
            return 64
        }
    }

    /// Opens `path` with libhdf5 and lists it.
    static func catalog(path: String) throws -> HDF5WorkerMessage {
        let context = HDF5ErrorContext(file: path)
        let catalog = try HDF5Library.withLock {
            let file = try open(path: path, context: context)
            return try HDF5Catalog(file: file, context: context)
        }
        return HDF5WorkerMessage(
            layout: catalog.layout.rawValue,
            metadata: catalog.metadata.mapValues(HDF5WorkerMessage.WireValue.init),
            entries: catalog.entries,
            refused: catalog.refused.mapValues(HDF5WorkerMessage.WireError.init))
    }

    private static func open(path: String, context: HDF5ErrorContext) throws -> HDF5Handle {
        let fileAccess = try HDF5Library.fileAccess()
        return try context.handle(
            H5Fopen(path, cmvlm_h5f_acc_rdonly(), fileAccess), .file, .malformed,
            "libhdf5 cannot open the file")
    }

    /// Reads a dataset with `H5Dread` into owned memory.
    static func read(path: String, entry: HDF5Entry) throws -> TensorStorage {
        let context = HDF5ErrorContext(file: path)
        return try HDF5Library.withLock {
            let file = try open(path: path, context: context)
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
            guard let count = Shape.elementCount(description.shape), points == count,
                description.element.dtype.byteCount(elementCount: count) == description.byteCount
            else {
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
    }

    private static func write(_ message: HDF5WorkerMessage, to descriptor: Int32) -> Bool {
        guard let data = try? JSONEncoder().encode(message) else { return false }
        return data.withUnsafeBytes { writeAll($0, to: descriptor) }
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        var done = 0
        while done < bytes.count {
            let result = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if result < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += result
        }
        return true
    }
}
