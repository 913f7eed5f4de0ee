import Foundation
import MVLMCheckpoint
import MVLMConvert
import MVLMCore
import MVLMSafetensors
import MVLMSynthetic
import MVLMTestSupport
import Testing

/// The presets mean what llama.cpp's mean: for a MobileLLaMA-1.4B-shaped model, every tensor's
/// type in our plan equals the type llama.cpp's llama-quantize chose
/// (Tests/Fixtures/quant/llamacpp_types_mobilellama_1.4b.json). The checkpoint is a sparse file:
/// only its header is real, which is all a plan reads.
@Suite("presets agree with llama-quantize")
struct LlamaCppPresetTests {
    static func ggufName(_ name: String) -> String {
        let fixed = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"]
        if let name = fixed[name] { return name }
        let parts = name.split(separator: ".").map(String.init)
        let roles = [
            "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
            "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
            "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
        ]
        return "blk.\(parts[2]).\(roles[parts[3..<(parts.count - 1)].joined(separator: ".")] ?? "?").weight"
    }

    @Test(arguments: ["q4_0", "q4_k_m"])
    func sameTypes(preset: String) throws {
        let reference = try #require(try loadExpectedJSON("quant/llamacpp_types_mobilellama_1.4b.json")[preset] as? [String: String])
        let model = try #require(SyntheticPreset.named("mobilellama-1.4b"))
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A header-only f16 safetensors file: the data section is a hole.
        var offset = 0
        var entries: [String] = []
        for tensor in model.tensors {
            let bytes = Shape.elementCount(tensor.shape)! * 2
            entries.append("\"\(tensor.name)\":{\"dtype\":\"F16\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        let path = directory.appendingPathComponent("model.safetensors").path
        try Data(withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header).write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(8 + header.count + offset))
        try handle.close()
        let plan = try ConversionPlan.make(
            checkpoint: try Checkpoint.open(path), preset: QuantizationPreset(QuantizationPreset.Name(rawValue: preset)!),
            fuse: false)
        #expect(plan.decisions.count == reference.count)
        for decision in plan.decisions {
            #expect(decision.outputDType.name == reference[Self.ggufName(decision.name)], "\(decision.name)")
        }
    }
}
