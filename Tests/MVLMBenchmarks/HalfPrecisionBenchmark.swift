import Foundation
import MVLMCore
import Testing

/// f16/bf16 <-> f32 conversion of a 1 GB tensor against memcpy of the same bytes (the memory speed
/// this machine reaches on one thread).
@Suite("benchmark: half-precision conversion", .enabled(if: Bench.enabled, "set MVLM_BENCH=1 and use -c release"))
struct HalfPrecisionBenchmark {
    @Test func convertOneGigabyte() {
        let halves = 512 << 20  // 1 GiB of f16
        let source = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: halves)
        let floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: halves)
        defer {
            source.deallocate()
            floats.deallocate()
        }
        var state: UInt32 = 1
        for index in 0..<halves {
            state = state &* 1_664_525 &+ 1_013_904_223
            source[index] = UInt16(truncatingIfNeeded: state >> 16) & 0x7BFF  // finite values
        }
        floats.initialize(repeating: 0)
        let bytesMoved = Double(halves * 2 + halves * 4)  // read 1 GiB, write 2 GiB
        Bench.report("machine: \(Bench.machine), date \(Date())")

        let copy = Bench.measure {
            UnsafeMutableRawPointer(floats.baseAddress!).copyMemory(from: source.baseAddress!, byteCount: halves * 2)
            UnsafeMutableRawPointer(floats.baseAddress!).advanced(by: halves * 2)
                .copyMemory(from: source.baseAddress!, byteCount: halves * 2)
        }
        // memcpy of 1 GiB twice (read 2 GiB + write 2 GiB) as the single-thread memory-speed yardstick.
        let memcpyRate = Double(halves * 4 * 2) / copy.median / 1e9
        Bench.report(String(format: "memcpy 2 GiB: median %.3f s (%.3f-%.3f), %.1f GB/s read+write", copy.median, copy.min, copy.max, memcpyRate))

        let f16 = Bench.measure {
            HalfPrecision.convertFloat16ToFloat(UnsafeBufferPointer(source), into: floats)
        }
        Bench.report(String(format: "f16 -> f32, 1 GiB in: median %.3f s (%.3f-%.3f), %.1f GB/s read+write, %.2fx memcpy", f16.median, f16.min, f16.max, bytesMoved / f16.median / 1e9, (bytesMoved / f16.median / 1e9) / memcpyRate))

        let bf16 = Bench.measure {
            HalfPrecision.convertBFloat16ToFloat(UnsafeBufferPointer(source), into: floats)
        }
        Bench.report(String(format: "bf16 -> f32, 1 GiB in: median %.3f s (%.3f-%.3f), %.1f GB/s read+write, %.2fx memcpy", bf16.median, bf16.min, bf16.max, bytesMoved / bf16.median / 1e9, (bytesMoved / bf16.median / 1e9) / memcpyRate))

        let narrow = Bench.measure {
            HalfPrecision.convertFloatToFloat16(UnsafeBufferPointer(floats), into: source)
        }
        Bench.report(String(format: "f32 -> f16, 2 GiB in: median %.3f s (%.3f-%.3f), %.1f GB/s read+write, %.2fx memcpy", narrow.median, narrow.min, narrow.max, bytesMoved / narrow.median / 1e9, (bytesMoved / narrow.median / 1e9) / memcpyRate))
        // Both cores: the tensor split into 64 chunks over DispatchQueue.concurrentPerform.
        let chunks = 64
        let per = halves / chunks
        nonisolated(unsafe) let sharedSource = source
        nonisolated(unsafe) let sharedFloats = floats
        let parallel = Bench.measure {
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                HalfPrecision.convertFloat16ToFloat(
                    UnsafeBufferPointer(rebasing: sharedSource[(chunk * per)..<((chunk + 1) * per)]),
                    into: UnsafeMutableBufferPointer(rebasing: sharedFloats[(chunk * per)..<((chunk + 1) * per)]))
            }
        }
        let parallelCopy = Bench.measure {
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let bytes = per * 2
                UnsafeMutableRawPointer(sharedFloats.baseAddress!).advanced(by: chunk * bytes * 2)
                    .copyMemory(from: UnsafeRawPointer(sharedSource.baseAddress!).advanced(by: chunk * bytes), byteCount: bytes)
                UnsafeMutableRawPointer(sharedFloats.baseAddress!).advanced(by: chunk * bytes * 2 + bytes)
                    .copyMemory(from: UnsafeRawPointer(sharedSource.baseAddress!).advanced(by: chunk * bytes), byteCount: bytes)
            }
        }
        let parallelCopyRate = Double(halves * 4 * 2) / parallelCopy.median / 1e9
        Bench.report(String(format: "2 threads: memcpy %.1f GB/s; f16 -> f32 median %.3f s (%.3f-%.3f), %.1f GB/s, %.2fx 2-thread memcpy", parallelCopyRate, parallel.median, parallel.min, parallel.max, bytesMoved / parallel.median / 1e9, (bytesMoved / parallel.median / 1e9) / parallelCopyRate))
        #expect(floats[0].isFinite)
    }
}
