import Dispatch

/// Splits work over threads with `DispatchQueue.concurrentPerform`; each call of `body` gets a
/// disjoint range, so threads never write the same output.
///
/// The range is cut into about eight chunks per thread, and `threads` workers take chunks from a
/// shared counter until none is left. On a machine whose cores are shared with other processes a
/// descheduled worker then delays only its current chunk instead of a whole half of the work.
/// Which worker computes a chunk does not change its result, so output is deterministic.
enum Parallel {
    /// Chunks per worker.
    static let chunksPerThread = 8

    /// Calls `body` on disjoint chunks covering `0..<count`, from up to `threads` threads.
    /// Chunk starts are multiples of `alignment`; chunks hold at least `minimumChunk` items
    /// (except the last). With one thread, or too little work, runs inline.
    static func forEachChunk(
        count: Int, threads: Int, alignment: Int = 1, minimumChunk: Int = 1,
        _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let alignment = max(alignment, 1)
        let largestChunkCount = max(count / max(minimumChunk, 1), 1)
        let workers = min(max(threads, 1), largestChunkCount)
        if workers == 1 {
            body(0..<count)
            return
        }
        let chunkCount = min(workers * chunksPerThread, largestChunkCount)
        let perChunk = (count + chunkCount - 1) / chunkCount
        let size = (perChunk + alignment - 1) / alignment * alignment
        let total = (count + size - 1) / size
        let counter = ChunkCounter()
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let chunk = counter.next()
                    guard chunk < total else { break }
                    let start = chunk * size
                    box.value(start..<min(start + size, count))
                }
            }
        }
    }
}
