import CMVLMKernels
import Foundation
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// `mvlm_quick_gelu` (CLIP's x · sigmoid(1.702 x)) at every kernel level against a Double
/// reference and against the Swift SIMD path the interpreter uses without the C kernels, over the
/// range activations take and past it (exp overflow and underflow), with lengths that leave vector
/// tails, and in place.
@Suite("C quick-GELU kernel")
struct QuickGeluKernelTests {
    @Test("matches the Double reference and the Swift path at every level", arguments: [1, 7, 16, 33, 1000])
    func matchesReference(count: Int) {
        var rng = SeededRandom(seed: UInt64(count) + 17)
        var x = (0..<count).map { _ in Float.random(in: -12...12, using: &rng) }
        let specials: [Float] = [0, -0.0, 1e-30, -1e-30, 51, -51, 60, -60, 100, -100, 1e30, -1e30, 20, -20]
        for (i, value) in specials.enumerated() where i < count { x[i] = value }
        // The kernels round z = 1.702 x to f32 (as the Swift path does); the reference uses that
        // constant, and the bound adds 2^-24 · |z| relative for the rounding of z (exp's condition).
        let constant = Double(Float(1.702))
        let expected = x.map { Double($0) / (1 + exp(-constant * Double($0))) }
        var swift = x
        swift.withUnsafeMutableBufferPointer { VisionKernels.quickGelu($0) }
        for level in MatrixMultiplyTests.levels {
            MatrixMultiplyTests.atLevel(level) {
                var out = [Float](repeating: .nan, count: count)
                mvlm_quick_gelu(x, &out, Int64(count))
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { mvlm_quick_gelu($0.baseAddress!, $0.baseAddress!, Int64(count)) }
                #expect(out == inPlace, "level \(level): in place differs")
                for i in 0..<count {
                    let relative = 1e-6 + abs(constant * Double(x[i])) * 0x1p-24
                    // An absolute 1e-36 where the result is near 0 (x ≤ -52: e^(1.702|x|) overflows
                    // in the portable form, and the true value is below 1e-37).
                    let bound = abs(expected[i]) * relative + 1e-36
                    #expect(abs(Double(out[i]) - expected[i]) <= bound, "level \(level) x=\(x[i]): \(out[i]) vs \(expected[i])")
                    // The Swift path's e^-|z| stops at e^-87.3 ≈ 1.2e-38, so far left it returns
                    // x · 1.2e-38 where the true value underflows (x = -1e30: -1.2e-8, not -0).
                    let swiftBound = 2 * bound + abs(Double(x[i])) * 2e-38
                    #expect(abs(Double(out[i]) - Double(swift[i])) <= swiftBound, "level \(level) x=\(x[i]): \(out[i]) vs Swift \(swift[i])")
                }
            }
        }
    }
}
