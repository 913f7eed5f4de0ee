import CMVLMKernels
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// `mvlm_read_sum` (the bandwidth read of `mvlm bench`) at every kernel level, and
/// `ParallelRead.sum` on two threads, against a plain Swift sum of the same words.
@Suite("Parallel read")
struct ParallelReadTests {
    /// Little-endian 64-bit words, then the last count % 8 bytes, wrapping.
    static func reference(_ bytes: [UInt8]) -> UInt64 {
        var total: UInt64 = 0
        var i = 0
        while i + 8 <= bytes.count {
            var word: UInt64 = 0
            for b in 0..<8 { word |= UInt64(bytes[i + b]) << (8 * b) }
            total &+= word
            i += 8
        }
        while i < bytes.count {
            total &+= UInt64(bytes[i])
            i += 1
        }
        return total
    }

    @Test("every level sums like the reference, at every tail length and offset", arguments: [0, 1, 7, 8, 127, 255, 256, 1000, 4099])
    func levels(count: Int) {
        var rng = SeededRandom(seed: UInt64(count) + 5)
        let bytes = (0..<(count + 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for offset in [0, 3] {
            let slice = Array(bytes[offset..<(offset + count)])
            let expected = Self.reference(slice)
            for level in MatrixMultiplyTests.levels {
                MatrixMultiplyTests.atLevel(level) {
                    let sum = bytes.withUnsafeBytes { mvlm_read_sum($0.baseAddress! + offset, Int64(count)) }
                    #expect(sum == expected, "level \(level), \(count) bytes at offset \(offset)")
                }
            }
        }
    }

    @Test("ParallelRead.sum over 2 threads equals the reference (3 MiB and a tail)")
    func parallel() {
        var rng = SeededRandom(seed: 99)
        let bytes = (0..<(3 << 20) + 13).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let sum = bytes.withUnsafeBytes { ParallelRead.sum($0, threads: 2) }
        #expect(sum == Self.reference(bytes))
        #expect([UInt8]().withUnsafeBytes { ParallelRead.sum($0, threads: 2) } == 0)
    }
}
