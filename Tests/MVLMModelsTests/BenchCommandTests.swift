import Foundation
import MVLMTestSupport
import Testing

@Suite("mvlm bench")
struct BenchCommandTests {
    @Test("--json reports medians, spreads, bandwidth and the ceiling for a checkpoint and an .mvlm file")
    func json() throws {
        let source = Fixtures.path("llama/mha_f32")
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("b.mvlm").path
        #expect(try CommandLineTool.run(["convert", source, "-o", file, "--quant", "q4_0"]).status == 0)
        for model in [source, file] {
            let result = try CommandLineTool.run(["bench", model, "--threads", "1", "--prompt-tokens", "8", "--gen-tokens", "4", "--repetitions", "2", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            for key in ["prefill_tokens_per_second", "decode_tokens_per_second", "decode_mean_tokens_per_second", "read_bandwidth_gb_per_second", "decode_ceiling_tokens_per_second", "time_to_first_token_seconds"] {
                let value = try #require(object[key] as? Double, "\(key)")
                #expect(value > 0 && value.isFinite, "\(key) = \(value)")
            }
            let spread = try #require(object["decode_spread"] as? [String: Double])
            #expect(spread["slowest"]! <= object["decode_tokens_per_second"] as! Double + 1e-9)
            // The mean step lies between the fastest and the slowest step.
            let mean = object["decode_mean_tokens_per_second"] as! Double
            #expect(spread["slowest"]! <= mean + 1e-9 && mean <= spread["fastest"]! + 1e-9)
            #expect(object["bytes_per_decode_token"] as? Int ?? 0 > 0)
            #expect(object["decode_context"] as? Int == 0)  // from an empty cache, as llama-bench's tg
        }
        let after = try CommandLineTool.run(["bench", source, "--threads", "1", "--prompt-tokens", "4", "--gen-tokens", "2", "--decode-context", "6", "--repetitions", "1", "--json"])
        #expect(after.status == 0, "\(after.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        #expect(object["decode_context"] as? Int == 6)
        #expect(try CommandLineTool.run(["bench", source, "--threads", "0"]).status == 64)
        let negative = try CommandLineTool.run(["bench", source, "--decode-context", "-1"])
        #expect(negative.status == 64 && negative.stderr.contains("--decode-context"), "\(negative.stderr)")
    }
}
