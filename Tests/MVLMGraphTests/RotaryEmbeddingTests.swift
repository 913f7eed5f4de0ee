import MVLMCore
import Testing

@testable import MVLMGraph

@Suite struct RotaryEmbeddingTests {
    @Test func defaultFrequencies() {
        let rope = RotaryEmbedding(headDimension: 8, theta: 10000)
        let expected: [Float] = [1, 0.1, 0.01, 0.001]
        for (value, reference) in zip(rope.inverseFrequencies(), expected) {
            #expect(abs(value - reference) <= 1e-6 * reference)
        }
    }

    /// Reference: transformers `ROPE_INIT_FUNCTIONS["llama3"]` for head_dim 16, theta 5e5,
    /// factor 8, low 1, high 4, original context 32.
    @Test func llama3Frequencies() {
        let rope = RotaryEmbedding(
            headDimension: 16, theta: 500_000,
            scaling: .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 32))
        let expected: [Float] = [
            1.0, 0.024240344762802124, 0.004700753837823868, 0.0009115831344388425,
            0.00017677668074611574, 3.428102354519069e-05, 6.647869668086059e-06, 1.289173155782919e-06,
        ]
        for (value, reference) in zip(rope.inverseFrequencies(), expected) {
            #expect(abs(value - reference) <= 1e-6 * reference)
        }
    }

    @Test func linearScalingDividesFrequencies() {
        let plain = RotaryEmbedding(headDimension: 8, theta: 10000).inverseFrequencies()
        let scaled = RotaryEmbedding(headDimension: 8, theta: 10000, scaling: .linear(factor: 4)).inverseFrequencies()
        for (a, b) in zip(plain, scaled) { #expect(abs(a / 4 - b) <= 1e-7 * a) }
    }
}
