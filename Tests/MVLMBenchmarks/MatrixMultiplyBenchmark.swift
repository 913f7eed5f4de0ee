import CMVLMKernels
import Foundation
import MVLMCore
import MVLMGraph
import Testing

@testable import MVLMRuntime

/// Prefill products through the interpreter's kernels (`LinearKernel`, `QuantizedMatVec`): the
/// vision encoder's f16 linears (577 tokens, CLIP ViT-L/14-336 widths) and the 1.4B language
/// model's quantized linears (512 tokens), in GFLOP/s (2 operations per multiply-add), at each
/// C kernel level and for the Swift SIMD path. Run with
/// `MVLM_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter MatrixMultiplyBenchmark`;
/// `MVLM_BENCH_THREADS` (default `1,2`) picks thread counts.
@Suite("benchmark: matrix x matrix kernels", .serialized, .enabled(if: Bench.enabled, "set MVLM_BENCH=1 and use -c release"))
struct MatrixMultiplyBenchmark {
    static var threadCounts: [Int] {
        (ProcessInfo.processInfo.environment["MVLM_BENCH_THREADS"] ?? "1,2").split(separator: ",").compactMap { Int($0) }
    }

    static func levelName(_ level: Int32) -> String { ["portable", "AVX2", "AVX-512"][Int(level)] }

    /// The detected level and the ones below it that are worth timing (AVX2 and AVX-512).
    static var vectorLevels: [Int32] {
        let top = mvlm_kernels_set_level(-1)
        return top >= 1 ? Array((1...top).reversed()) : []
    }

    /// Times `y = x·Wᵀ (+ b)` through `LinearKernel` (and `QuantizedMatVec` for its block types).
    static func time(
        _ weight: Tensor, tokens: Int, bias: Bool, threads: Int, nativeKernels: Bool = true, repetitions: Int = 5
    ) throws -> (median: Double, min: Double, max: Double) {
        let outputs = weight.shape[0], inputs = weight.shape[1]
        var state: UInt32 = 7
        let x = (0..<(tokens * inputs)).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 23)
        }
        let b = [Float](repeating: 0.5, count: outputs)
        var y = [Float](repeating: 0, count: tokens * outputs)
        var failure: Error?
        let result = x.withUnsafeBufferPointer { xs in
            b.withUnsafeBufferPointer { bs in
                y.withUnsafeMutableBufferPointer { ys in
                    Bench.measure(repetitions: repetitions) {
                        if nativeKernels, QuantizedMatVec.applies(to: weight, tokens: tokens) {
                            QuantizedMatVec.run(
                                weight: weight, x: xs.baseAddress!, tokens: tokens, bias: bias ? bs.baseAddress : nil, y: ys.baseAddress!,
                                threads: threads)
                            return
                        }
                        do {
                            try weight.apply(LinearKernel(
                                x: xs.baseAddress!, tokens: tokens, inputs: inputs, outputs: outputs, bias: bias ? bs.baseAddress : nil,
                                y: ys.baseAddress!, threads: threads, nativeKernels: nativeKernels))
                        } catch {
                            failure = error
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        #expect(y.allSatisfy { $0.isFinite })
        return result
    }

    static func f16Weight(outputs: Int, inputs: Int) throws -> Tensor {
        var state: UInt32 = 1
        let halves = (0..<(outputs * inputs)).map { _ -> UInt16 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return HalfPrecision.float16Bits(from: Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 26))
        }
        return try Tensor(storage: halves.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .float16, shape: [outputs, inputs])
    }

    /// Random blocks of `type` with small, normal f16 scales (speed does not depend on the values).
    static func blockWeight(_ type: BlockType, outputs: Int, inputs: Int) throws -> Tensor {
        let count = outputs * inputs / type.blockElements * type.blockBytes
        var state: UInt32 = 3
        var bytes = (0..<count).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let scaleOffsets: [Int] = type == .q6_K ? [208] : (type == .q4_K ? [0, 2] : [0])
        let scale = HalfPrecision.float16Bits(from: 0.01)
        for block in 0..<(count / type.blockBytes) {
            for offset in scaleOffsets {
                bytes[block * type.blockBytes + offset] = UInt8(scale & 0xFF)
                bytes[block * type.blockBytes + offset + 1] = UInt8(scale >> 8)
            }
        }
        return try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [outputs, inputs])
    }

    static func report(_ label: String, flops: Double, _ timing: (median: Double, min: Double, max: Double)) {
        Bench.report(String(
            format: "%@: median %.2f ms (%.2f-%.2f), %.1f GFLOP/s", label, timing.median * 1e3, timing.min * 1e3, timing.max * 1e3,
            flops / timing.median / 1e9))
    }

    @Test func visionEncoderLinears() throws {
        Bench.report("machine: \(Bench.machine), date \(Date())")
        let tokens = 577
        let shapes = [(4096, 1024), (1024, 4096), (1024, 1024)]  // fc1, fc2, q/k/v/out projections
        for (outputs, inputs) in shapes {
            let weight = try Self.f16Weight(outputs: outputs, inputs: inputs)
            let flops = 2.0 * Double(tokens * outputs * inputs)
            for threads in Self.threadCounts {
                for level in Self.vectorLevels {
                    mvlm_kernels_set_level(level)
                    defer { mvlm_kernels_set_level(-1) }
                    let timing = try Self.time(weight, tokens: tokens, bias: true, threads: threads)
                    Self.report("f16 \(tokens)x\(inputs)->\(outputs) +bias, \(threads) thread(s), C \(Self.levelName(level))", flops: flops, timing)
                }
                let swift = try Self.time(weight, tokens: tokens, bias: true, threads: threads, nativeKernels: false, repetitions: 3)
                Self.report("f16 \(tokens)x\(inputs)->\(outputs) +bias, \(threads) thread(s), Swift SIMD", flops: flops, swift)
            }
        }
        // One image through the 23 blocks CLIP runs for MobileVLM: 4 projections + fc1 + fc2 each.
        let perBlock = 2.0 * Double(tokens) * Double(4 * 1024 * 1024 + 2 * 1024 * 4096)
        Bench.report(String(format: "vision encoder linears: %.1f GFLOP per image (23 blocks)", 23 * perBlock / 1e9))
    }

    @Test func languageModelPrefillLinears() throws {
        Bench.report("machine: \(Bench.machine), date \(Date())")
        let tokens = 512
        let shapes = [(2048, 2048), (5632, 2048), (2048, 5632)]  // MobileLLaMA-1.4B: attention, gate/up, down
        for type in [BlockType.q4_0, .q4_K, .q8_0, .q6_K] {
            for (outputs, inputs) in shapes {
                let weight = try Self.blockWeight(type, outputs: outputs, inputs: inputs)
                let flops = 2.0 * Double(tokens * outputs * inputs)
                for threads in Self.threadCounts {
                    for level in Self.vectorLevels {
                        mvlm_kernels_set_level(level)
                        defer { mvlm_kernels_set_level(-1) }
                        let timing = try Self.time(weight, tokens: tokens, bias: false, threads: threads)
                        Self.report("\(type.name) \(tokens)x\(inputs)->\(outputs), \(threads) thread(s), C \(Self.levelName(level))", flops: flops, timing)
                    }
                }
            }
        }
    }

    @Test func attention() {
        Bench.report("machine: \(Bench.machine), date \(Date())")
        // The vision encoder (577 tokens, 16 heads of 64, every key visible) and the language
        // model's prefill (512 tokens, 16 heads of 128, causal).
        for (tokens, heads, d, causal) in [(577, 16, 64, false), (512, 16, 128, true)] {
            var state: UInt32 = 5
            let values = (0..<(tokens * heads * d)).map { _ -> Float in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 23)
            }
            var out = [Float](repeating: 0, count: values.count)
            let p = AttentionParameters(heads: heads, keyValueHeads: heads, headDimension: d, scale: 1 / Float(d).squareRoot(), cacheSlot: 0)
            // Scores and weighted sum: 2 · 2 · d per visible (query, key) pair.
            let pairs = causal ? Double(tokens * (tokens + 1) / 2) : Double(tokens * tokens)
            let flops = 4.0 * Double(d * heads) * pairs
            for threads in Self.threadCounts {
                let native = Bench.measure {
                    AttentionKernel.run(q: values, keys: values, values: values, output: &out, tokens: tokens, past: 0, parameters: p, causal: causal, threads: threads)
                }
                Self.report("attention \(tokens) tokens, \(heads)x\(d)\(causal ? " causal" : ""), \(threads) thread(s), C", flops: flops, native)
                if causal {  // Kernels.attention is causal only
                    let swift = Bench.measure(repetitions: 3) {
                        Kernels.attention(q: values, keys: values, values: values, output: &out, tokens: tokens, past: 0, parameters: p, threads: threads)
                    }
                    Self.report("attention \(tokens) tokens, \(heads)x\(d) causal, \(threads) thread(s), Swift", flops: flops, swift)
                }
            }
        }
    }
}
