import Dispatch
import MVLMCore

/// Writes a tensor's encoded chunks on a serial background queue, so writing (with the sink's
/// CRC and the page-cache copy) and the rows16 repacking of chunk i overlap the widening and
/// quantization of chunk i + 1. At most one chunk waits: `submit` first waits for the previous
/// one, which bounds memory at two encoded chunks. Chunks reach the sink in order.
final class BackgroundWriter<Sink: ConversionSink>: @unchecked Sendable {
    private let sink: Sink
    private let queue = DispatchQueue(label: "mvlm.convert.writer")
    private let group = DispatchGroup()
    // Set on the queue, read after `group.wait()` (which orders the accesses).
    private var failure: Error?

    init(sink: Sink) { self.sink = sink }

    /// Queues `bytes` (after `transform`, run on the queue) for writing; rethrows an earlier
    /// chunk's error.
    func submit(_ bytes: [UInt8], transform: (@Sendable ([UInt8]) -> [UInt8])? = nil) throws {
        try drain()
        group.enter()
        let chunk = UncheckedChunk(bytes: bytes)
        queue.async { [self] in
            defer { group.leave() }
            let data = transform.map { $0(chunk.bytes) } ?? chunk.bytes
            do { try data.withUnsafeBytes { try sink.write($0) } } catch { failure = error }
        }
    }

    /// Waits for the queued chunk; rethrows its error.
    func drain() throws {
        group.wait()
        if let failure {
            self.failure = nil
            throw failure
        }
    }
}

private struct UncheckedChunk: @unchecked Sendable {
    var bytes: [UInt8]
}
