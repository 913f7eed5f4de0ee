import MVLMGraph
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// GGUF checkpoints store each head's Q/K rows in llama.cpp's pair order (row 2i = rotate-half row
/// i, row 2i+1 = row i + d/2); interleaved RoPE on those rows must equal rotate-half RoPE on the
/// original rows, element for element.
@Suite("interleaved RoPE")
struct InterleavedRopeTests {
    @Test("pair-ordered rows with interleaved RoPE equal halves-ordered rows with rotate-half", arguments: [8, 64, 128])
    func matchesRotateHalf(headDimension: Int) {
        var rng = SeededRandom(seed: UInt64(headDimension))
        let heads = 3, tokens = 5, width = heads * headDimension, half = headDimension / 2
        let rope = RotaryEmbedding(headDimension: headDimension, theta: 10000)
        let inverse = rope.inverseFrequencies()
        var halves = (0..<(tokens * width)).map { _ in Float.random(in: -2...2, using: &rng) }
        var pairs = halves
        for t in 0..<tokens {
            for h in 0..<heads {
                let base = t * width + h * headDimension
                for i in 0..<half {
                    pairs[base + 2 * i] = halves[base + i]
                    pairs[base + 2 * i + 1] = halves[base + i + half]
                }
            }
        }
        halves.withUnsafeMutableBufferPointer {
            Kernels.rope($0.baseAddress!, tokens: tokens, width: width, firstPosition: 7, inverseFrequencies: inverse, headDimension: headDimension)
        }
        pairs.withUnsafeMutableBufferPointer {
            Kernels.rope($0.baseAddress!, tokens: tokens, width: width, firstPosition: 7, inverseFrequencies: inverse, headDimension: headDimension, interleaved: true)
        }
        for t in 0..<tokens {
            for h in 0..<heads {
                let base = t * width + h * headDimension
                for i in 0..<half {
                    #expect(pairs[base + 2 * i] == halves[base + i])
                    #expect(pairs[base + 2 * i + 1] == halves[base + i + half])
                }
            }
        }
    }
}
