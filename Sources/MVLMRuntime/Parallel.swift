import CMVLMKernels
import Dispatch

/// Splits work over threads with `DispatchQueue.concurrentPerform`; each call of `body` gets a
/// disjoint range, so threads never write the same output.
///
/// The range is cut into about eight chunks per thread, and `threads` workers take chunks from a
/// shared counter until none is left. On a machine whose cores are shared with other processes a
/// descheduled worker then delays only its current chunk instead of a whole half of the work.
/// Which worker computes a chunk does not change its result, so output is deterministic.
///
/// Work goes to the C pool (`mvlm_pool_run`: workers that spin briefly between jobs, so the
/// hundred short products of a decode step do not each pay for waking a thread); when the pool is
/// taken (another thread's job, or a nested call) `DispatchQueue.concurrentPerform` runs it.
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
        let ran = withoutActuallyEscaping(body) { body -> Bool in
            var job = PoolJob(body: body, size: size, count: count)
            return withUnsafeMutablePointer(to: &job) { pointer in
                mvlm_pool_run(Int32(workers), Int64(total), { context, chunk in
                    let job = context!.assumingMemoryBound(to: PoolJob.self)
                    let start = Int(chunk) * job.pointee.size
                    job.pointee.body(start..<min(start + job.pointee.size, job.pointee.count))
                }, pointer) != 0
            }
        }
        if ran { return }
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

/// What a pool task needs to find its chunk.
private struct PoolJob {
    var body: (Range<Int>) -> Void
    var size: Int
    var count: Int
}
