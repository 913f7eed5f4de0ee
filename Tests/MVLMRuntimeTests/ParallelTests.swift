import Testing

@testable import MVLMRuntime

@Suite struct ParallelTests {
    @Test(arguments: [1, 2, 3, 8], [0, 1, 15, 16, 17, 1000, 32000])
    func chunksCoverEveryIndexOnce(threads: Int, count: Int) {
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
        hits.initialize(repeating: 0)
        defer { hits.deallocate() }
        let box = UncheckedSendable(hits)
        let starts = ChunkStarts()
        Parallel.forEachChunk(count: count, threads: threads, alignment: 16, minimumChunk: 16) { range in
            starts.record(range.lowerBound)
            for index in range { box.value[index] += 1 }
        }
        #expect(hits.prefix(count).allSatisfy { $0 == 1 })
        #expect(starts.values.allSatisfy { $0 % 16 == 0 })
    }
}

/// Collects chunk starts from several threads.
final class ChunkStarts: @unchecked Sendable {
    private let counter = ChunkCounter()
    private var storage = [Int](repeating: -1, count: 4096)
    func record(_ start: Int) { storage[counter.next()] = start }
    var values: [Int] { storage.filter { $0 >= 0 } }
}
