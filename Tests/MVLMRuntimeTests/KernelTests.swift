import Foundation
import MVLMCore
import MVLMGraph
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// A tensor that owns `values` converted to `dtype` (f32, f16 or bf16).
func makeTensor(_ values: [Float], shape: [Int], dtype: DType) throws -> Tensor {
    let storage: TensorStorage
    switch dtype {
    case .float16, .bfloat16:
        var halves = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { source in
            halves.withUnsafeMutableBufferPointer { destination in
                if dtype == .float16 {
                    HalfPrecision.convertFloatToFloat16(source, into: destination)
                } else {
                    HalfPrecision.convertFloatToBFloat16(source, into: destination)
                }
            }
        }
        storage = halves.withUnsafeBytes { TensorStorage(copying: $0) }
    default:
        storage = values.withUnsafeBytes { TensorStorage(copying: $0) }
    }
    return try Tensor(storage: storage, dtype: dtype, shape: shape)
}

@Suite struct WeightFormatTests {
    @Test func float16WideningIsExactForEveryBitPattern() {
        var bits = (0..<65536).map { UInt16($0) }
        bits.withUnsafeMutableBytes { raw in
            for start in stride(from: 0, to: 65536, by: 8) {
                let (even, odd) = Float16Format.load8(UnsafeRawPointer(raw.baseAddress!), start)
                for lane in 0..<8 {
                    let value = lane % 2 == 0 ? even[lane / 2] : odd[lane / 2]
                    let scalar = Float16Format.load(UnsafeRawPointer(raw.baseAddress!), start + lane)
                    let reference = HalfPrecision.float(fromFloat16Bits: UInt16(start + lane))
                    if reference.isNaN {
                        #expect(value.isNaN && value.sign == reference.sign && scalar.isNaN, "f16 bits \(start + lane)")
                    } else if value.bitPattern != reference.bitPattern || scalar.bitPattern != reference.bitPattern {
                        Issue.record("f16 bits \(start + lane): \(value) != \(reference)")
                    }
                }
            }
        }
    }

    @Test func bfloat16WideningIsAShift() {
        let halves: [UInt16] = [0x3F80, 0xBF80, 0x7F80, 0x0001, 0x4049, 0, 0x8000, 0xFFFF]
        halves.withUnsafeBytes { raw in
            let (even, odd) = BFloat16Format.load8(raw.baseAddress!, 0)
            for lane in 0..<8 {
                let value = lane % 2 == 0 ? even[lane / 2] : odd[lane / 2]
                #expect(value.bitPattern == UInt32(halves[lane]) << 16)
                #expect(BFloat16Format.load(raw.baseAddress!, lane).bitPattern == UInt32(halves[lane]) << 16)
            }
        }
    }
}

@Suite struct LinearKernelTests {
    /// Naive double-precision reference of `x · wᵀ + b` on the values as stored.
    func reference(_ x: [Float], _ w: [Float], _ b: [Float]?, tokens: Int, k: Int, n: Int) -> [Float] {
        var y = [Float](repeating: 0, count: tokens * n)
        for t in 0..<tokens {
            for j in 0..<n {
                var sum = 0.0
                for i in 0..<k { sum += Double(x[t * k + i]) * Double(w[j * k + i]) }
                y[t * n + j] = Float(sum + Double(b?[j] ?? 0))
            }
        }
        return y
    }

    @Test(arguments: [DType.float32, .float16, .bfloat16], [(1, 64, 17), (3, 13, 40), (4, 100, 33), (37, 72, 50), (9, 5, 3), (2, 301, 9), (6, 40, 21)])
    func matchesNaiveReference(dtype: DType, size: (Int, Int, Int)) throws {
        let (tokens, k, n) = size
        var random = SeededRandom(seed: UInt64(tokens * 1000 + k * 10 + n))
        let x = random.floats(tokens * k)
        let weight = try makeTensor(random.floats(n * k), shape: [n, k], dtype: dtype)
        let stored = try weight.floatValues()
        let bias = random.floats(n)
        let expected = reference(x, stored, bias, tokens: tokens, k: k, n: n)
        for threads in [1, 2, 3] {
            var y = [Float](repeating: .nan, count: tokens * n)
            try x.withUnsafeBufferPointer { xs in
                try bias.withUnsafeBufferPointer { b in
                    try y.withUnsafeMutableBufferPointer { out in
                        try weight.apply(LinearKernel(
                            x: xs.baseAddress!, tokens: tokens, inputs: k, outputs: n, bias: b.baseAddress!,
                            y: out.baseAddress!, threads: threads))
                    }
                }
            }
            let error = try #require(maxAbsoluteDifference(y, expected))
            #expect(error <= 1e-5 * Float(k).squareRoot(), "threads \(threads)")
        }
    }
}

@Suite struct ActivationKernelTests {
    @Test func knownValues() {
        // erf-based GELU and sigmoid forms, from their definitions.
        #expect(abs(Kernels.gelu(1) - 0.8413447460685429) < 1e-6)
        #expect(abs(Kernels.gelu(-2) - -0.04550026389635842) < 1e-6)
        #expect(abs(Kernels.quickGelu(1) - Float(1 / (1 + exp(-1.702)))) < 1e-6)  // 1·σ(1.702)
        #expect(abs(Kernels.silu(2) - 1.7615941559557646) < 1e-6)
        #expect(Kernels.silu(0) == 0)
    }

    @Test func rmsAndLayerNormOfOneRow() {
        let x: [Float] = [1, 2, 3, 4]
        let weight: [Float] = [1, 0.5, 2, 1]
        let bias: [Float] = [0, 1, 0, -1]
        var y = [Float](repeating: 0, count: 4)
        x.withUnsafeBufferPointer { xs in
            weight.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { out in
                    Kernels.rmsNorm(xs.baseAddress!, rows: 1, width: 4, weight: w.baseAddress!, epsilon: 0, into: out.baseAddress!, threads: 1)
                }
            }
        }
        let rms: Float = (30.0 / 4).squareRoot()
        for i in 0..<4 { #expect(abs(y[i] - x[i] / rms * weight[i]) < 1e-6) }
        x.withUnsafeBufferPointer { xs in
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { out in
                        Kernels.layerNorm(xs.baseAddress!, rows: 1, width: 4, weight: w.baseAddress!, bias: b.baseAddress!, epsilon: 0, into: out.baseAddress!, threads: 1)
                    }
                }
            }
        }
        let std = Float(1.25).squareRoot()  // values 1...4: mean 2.5, biased variance 1.25
        for i in 0..<4 { #expect(abs(y[i] - ((x[i] - 2.5) / std * weight[i] + bias[i])) < 1e-6) }
    }

    @Test func ropeRotatesHalves() {
        var x: [Float] = [1, 0, 0, 1, 2, 3, 4, 5]  // two heads of 4
        let inverse: [Float] = [1, 0.5]
        x.withUnsafeMutableBufferPointer { Kernels.rope($0.baseAddress!, tokens: 1, width: 8, firstPosition: 2, inverseFrequencies: inverse, headDimension: 4) }
        // Head 0, pair (x0, x2) = (1, 0) at angle 2; pair (x1, x3) = (0, 1) at angle 1.
        #expect(abs(x[0] - cos(2)) < 1e-6 && abs(x[2] - sin(2)) < 1e-6)
        #expect(abs(x[1] - -sin(1)) < 1e-6 && abs(x[3] - cos(1)) < 1e-6)
        // Head 1, pair (2, 4) at angle 2.
        #expect(abs(x[4] - (2 * cos(2) - 4 * sin(2))) < 1e-5)
        #expect(abs(x[6] - (4 * cos(2) + 2 * sin(2))) < 1e-5)
    }
}
