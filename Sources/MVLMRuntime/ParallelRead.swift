import CMVLMKernels

/// A plain parallel read of a buffer (`mvlm_read_sum` on each thread's chunks, through the same
/// worker pool the kernels use): what the memory system delivers when nothing is computed on the
/// bytes, the ceiling `mvlm bench` compares decode with.
public enum ParallelRead {
    /// The wrapping sum of the buffer's little-endian 64-bit words (the last `count % 8` bytes one
    /// by one), read from up to `threads` threads in chunks of 1 MiB. Callers keep the value so the
    /// reads are not dropped.
    public static func sum(_ bytes: UnsafeRawBufferPointer, threads: Int) -> UInt64 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        let chunk = 1 << 20
        let chunks = (bytes.count + chunk - 1) / chunk
        let partial = UnsafeMutablePointer<UInt64>.allocate(capacity: chunks)
        partial.initialize(repeating: 0, count: chunks)
        defer { partial.deallocate() }
        let shared = UncheckedSendable((base, partial))
        Parallel.forEachChunk(count: chunks, threads: threads) { range in
            let (base, partial) = shared.value
            for index in range {
                let start = index * chunk
                partial[index] = mvlm_read_sum(base + start, Int64(min(chunk, bytes.count - start)))
            }
        }
        return (0..<chunks).reduce(0) { $0 &+ partial[$1] }
    }
}
