import Foundation
import MVLMCheckpoint
import MVLMCompression
import MVLMConvert
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMQuant
import MVLMTestSupport
import Testing
import MVLMNumPy
import MVLMModelLoading

/// A converted .mvlm file runs in the engine from its stored bytes, and stays close to
/// transformers' logits (Tests/Fixtures/llama, from gen_llama.py) within each preset's error.
@Suite("running converted .mvlm files")
struct RunConvertedTests {
    struct Reference: Decodable {
        var prompt: [Int32]
        var generated: [Int32]
    }

    static func convert(_ fixture: String, _ preset: QuantizationPreset.Name, overrides: [String] = []) throws -> String {
        try convertPredicting(fixture, preset, overrides: overrides).path
    }

    /// Converts, returning the file and the size the plan predicted for it.
    static func convertPredicting(
        _ fixture: String, _ preset: QuantizationPreset.Name, overrides: [String] = [], fuse: Bool = true
    ) throws -> (path: String, predicted: Int) {
        let checkpoint = try Checkpoint.open(Fixtures.path("llama/\(fixture)"))
        let plan = try ConversionPlan.make(
            checkpoint: checkpoint, preset: QuantizationPreset(preset), overrides: overrides.map { try TensorOverride(parsing: $0) },
            fuse: fuse)
        let name = "\(fixture)-\(preset.rawValue)-\(fuse)-\(overrides.joined(separator: ",").replacingOccurrences(of: "*", with: "_")).mvlm"
        let path = try Fixtures.temporaryDirectory().appendingPathComponent(name).path
        let converter = ModelConverter(checkpoint: checkpoint, plan: plan)
        let manifest = ModelManifest(architecture: "llama", config: checkpoint.config)
        let predicted = try converter.predictedFileSize(manifest: manifest)
        try converter.convert(to: path, manifest: manifest)
        return (path, predicted)
    }

    @Test("f16 and q8_0 files: logits near transformers', greedy tokens mostly kept",
          arguments: [(QuantizationPreset.Name.f16, Float(0.01)), (.q8_0, 0.05)])
    func converted(preset: QuantizationPreset.Name, tolerance: Float) throws {
        try expectNearTransformers(try Self.convert("mha_f32", preset), fixture: "mha_f32", tolerance: tolerance, label: preset.rawValue)
    }

    /// The toolkit's own 8-bit schemes as stored in an .mvlm (INT8_PC with its per-row f32 scale,
    /// INT8_B32): every matrix in the scheme, the size the plan predicted, intact checksums, the
    /// stored bytes decoding to the source within half a quantization step, and logits as close to
    /// transformers' as the q8_0 file's.
    @Test("INT8_PC and INT8_B32 files: predicted size, bytes within half a step, logits near transformers'",
          arguments: ["INT8_PC", "INT8_B32"])
    func ownSchemes(scheme: String) throws {
        let fixture = "mha_f32"
        let (path, predicted) = try Self.convertPredicting(fixture, .q8_0, overrides: ["*_proj.weight=\(scheme)"], fuse: false)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue
        #expect(size == predicted)
        let reader = try ModelFileReader(path: path)
        #expect(reader.verifyIntegrity().isEmpty)
        let source = try Checkpoint.open(Fixtures.path("llama/\(fixture)"))
        var matrices = 0
        for info in reader.tensorInfos where info.name.hasSuffix("_proj.weight") {
            #expect(info.dtype.name == scheme, "\(info.name)")
            let columns = info.shape[1], rows = info.shape[0]
            #expect(info.byteCount == rows * (scheme == "INT8_PC" ? 4 + columns : columns / 32 * 34), "\(info.name)")
            let original = try source.reader.tensor(named: info.name).floatValues()
            let stored = try reader.verifiedTensor(named: info.name)
            guard case .block(let type) = stored.dtype else { Issue.record("\(info.name) is not a block type"); continue }
            let restored = try stored.withUnsafeBytes {
                try BlockDequantizer.dequantize(type, bytes: Array($0), count: stored.elementCount, rowLength: columns)
            }
            for row in 0..<rows {
                let part = original[(row * columns)..<((row + 1) * columns)]
                // The step: max |row| / 127 per row (INT8_PC, an f32 scale), at most that per block of 32 (INT8_B32, an f16 scale).
                let step = (part.map(abs).max() ?? 0) / 127
                for column in 0..<columns {
                    let error = abs(original[row * columns + column] - restored[row * columns + column])
                    #expect(error <= step * 0.5 * 1.002 + 1e-7, "\(info.name)[\(row), \(column)]")
                }
            }
            matrices += 1
        }
        #expect(matrices > 0)
        // INT8_PC's products take 8-bit activations (Q8_0 blocks of 32) in decode and prefill
        // (matvec_own.c, gemm_q8.c): with its one scale per row that adds about as much error as
        // the weights themselves (docs/performance.md: KL 0.0086 -> 0.0122 on SmolLM2), so its
        // bound is wider than INT8_B32's, whose prefill keeps f32 activations as Q8_0's does.
        try expectNearTransformers(path, fixture: fixture, tolerance: scheme == "INT8_PC" ? 0.08 : 0.05, label: scheme)
    }

    func expectNearTransformers(_ path: String, fixture: String, tolerance: Float, label: String) throws {
        let model = try LanguageModel.load(try Checkpoint.open(path))
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("llama/\(fixture)/reference.json"))))
        let (_, expected) = try NumPyFile.readFloat32(path: Fixtures.path("llama/\(fixture)/logits.npy"))
        var generator = try GreedyGenerator(model: model, threads: 2)
        let result = try generator.generate(prompt: reference.prompt, maxNewTokens: 8, keepPromptLogits: true)
        let logits = try #require(result.promptLogits).values
        let maximum = expected.reduce(0) { max($0, abs($1)) }
        let worst = try #require(maxAbsoluteDifference(logits, expected))
        #expect(worst <= tolerance * maximum, "\(label): max |diff| \(worst), max |logit| \(maximum)")
        // Top-1 agreement over the prompt positions.
        let vocabulary = expected.count / reference.prompt.count
        var agree = 0
        for position in 0..<reference.prompt.count {
            let row = position * vocabulary..<(position + 1) * vocabulary
            let a = logits[row].indices.max { logits[$0] < logits[$1] }
            let b = expected[row].indices.max { expected[$0] < expected[$1] }
            if a == b { agree += 1 }
        }
        #expect(Double(agree) >= 0.9 * Double(reference.prompt.count), "\(label): top-1 agreement \(agree)/\(reference.prompt.count)")
    }
}

/// The layout pass: a q4_0 file with its matrices in rows16 holds the same blocks as the row-major
/// file (de-interleaved), records the layout per tensor, and runs to the same logits. (The
/// fixtures' 64-wide rows take Q4_0; Q4_K and Q6_K need 256-wide rows and are covered by the kernel
/// tests and the 1.4B benchmark files.)
@Suite("rows16 files")
struct Rows16FileTests {
    static func convert(_ fixture: String, _ preset: QuantizationPreset.Name, fuse: Bool = true, repack: Bool) throws -> (String, ConversionPlan, Int) {
        let checkpoint = try Checkpoint.open(Fixtures.path("llama/\(fixture)"))
        let plan = try ConversionPlan.make(checkpoint: checkpoint, preset: QuantizationPreset(preset), fuse: fuse, repack: repack)
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("\(fixture)-\(preset.rawValue)-\(fuse)-\(repack).mvlm").path
        let converter = ModelConverter(checkpoint: checkpoint, plan: plan)
        let manifest = ModelManifest(architecture: "llama", config: checkpoint.config)
        let predicted = try converter.predictedFileSize(manifest: manifest)
        try converter.convert(to: path, manifest: manifest)
        return (path, plan, predicted)
    }

    @Test("same blocks, layout recorded, predicted size, integrity, same logits (fused and not)", arguments: [true, false])
    func rows16(fuse: Bool) throws {
        let fixture = "gqa_tied_f32"
        let (packedPath, plan, predicted) = try Self.convert(fixture, .q4_0, fuse: fuse, repack: true)
        let (plainPath, _, _) = try Self.convert(fixture, .q4_0, fuse: fuse, repack: false)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: packedPath)[.size] as? NSNumber).intValue
        #expect(size == predicted)
        #expect(plan.passes.last?.hasPrefix("layout: ") == true)
        let packed = try ModelFileReader(path: packedPath), plain = try ModelFileReader(path: plainPath)
        #expect(packed.verifyIntegrity().isEmpty)
        var repacked = 0
        for entry in packed.manifest.tensors {
            let decision = try #require(plan.decisions.first { $0.name == entry.name })
            let tensor = try packed.verifiedTensor(named: entry.name)
            if decision.layout == .rows16 {
                repacked += 1
                #expect(entry.layout == ["kind": .string("rows16")])
                #expect(tensor.layout == .rows16)
                #expect(decision.role != .tokenEmbedding)
            } else {
                #expect(entry.layout.isEmpty)
            }
            // Row-major reads give the row-major file's bytes exactly.
            #expect(tensor.withUnsafeBytes { Array($0) } == (try plain.tensor(named: entry.name).withUnsafeBytes { Array($0) }), "\(entry.name)")
        }
        #expect(repacked > 0)
        // The tied embedding (read by rows) stays row-major.
        #expect(packed.manifest.tensors.first { $0.name == "model.embed_tokens.weight" }?.layout.isEmpty == true)
        let prompt: [Int32] = [1, 17, 42, 99, 3, 250, 8, 64, 5]
        func logits(_ path: String) throws -> [Float] {
            var generator = try GreedyGenerator(model: try LanguageModel.load(try Checkpoint.open(path)), threads: 2)
            return try #require(try generator.generate(prompt: prompt, maxNewTokens: 1, keepPromptLogits: true).promptLogits).values
        }
        let a = try logits(packedPath), b = try logits(plainPath)
        let maximum = b.reduce(0) { max($0, abs($1)) }
        #expect((maxAbsoluteDifference(a, b) ?? .infinity) <= 1e-4 * maximum)
        // Decode steps (one token at a time) agree too.
        var left = try LanguageModel.load(try Checkpoint.open(packedPath)).makeInterpreter(threads: 2)
        var right = try LanguageModel.load(try Checkpoint.open(plainPath)).makeInterpreter(threads: 2)
        for token in prompt {
            let x = try #require(try left.run(["tokens": .tokens([token])], outputs: ["last_logits"])["last_logits"]).values
            let y = try #require(try right.run(["tokens": .tokens([token])], outputs: ["last_logits"])["last_logits"]).values
            #expect((maxAbsoluteDifference(x, y) ?? .infinity) <= 1e-4 * (y.map(abs).max() ?? 1))
        }
    }

    @Test("rows16 on a tensor it does not fit is refused at open, naming the file, the tensor and what it needs")
    func misfitLayout() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("misfit.mvlm").path
        let writer = try ModelFileWriter(path: path)
        let floats = [Float](repeating: 1, count: 32 * 8)
        try floats.withUnsafeBytes {
            try writer.addTensor(name: "w", dtype: .float32, shape: [32, 8], bytes: $0, layout: ["kind": .string("rows16")])
        }
        _ = try writer.finish(manifest: ModelManifest(architecture: "llama", config: [:]))
        #expect {
            _ = try ModelFileReader(path: path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("misfit.mvlm") && text.contains("tensor 'w'") && text.contains("rows16")
                && text.contains("Q4_0, Q8_0, Q4_K or Q6_K")
        }
    }

    @Test("a file whose layout object this reader does not know is refused, naming the tensor")
    func unknownLayout() throws {
        let (path, _, _) = try Self.convert("gqa_tied_f32", .q4_0, repack: true)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        // Rename a tensor entry's layout kind in place (same length, so offsets and sizes stay
        // valid; the quantization record's decisions say "layout":"rows16", the tensor table
        // "kind":"rows16").
        let needle = Data("\"kind\":\"rows16\"".utf8), replacement = Data("\"kind\":\"rows32\"".utf8)
        let range = try #require(data.range(of: needle))
        data.replaceSubrange(range, with: replacement)
        // Fix the manifest CRC so the reader gets as far as the layout.
        let count = data.count
        var header = try data.withUnsafeBytes { try ModelFileHeader.decode($0, fileLength: count, path: path) }
        let manifest = Data(data[Int(header.manifestOffset)..<Int(header.manifestOffset + header.manifestSize)])
        header.manifestCRC32 = manifest.withUnsafeBytes { CRC32.checksum($0) }
        data.replaceSubrange(0..<64, with: header.encoded())
        let broken = path + ".broken.mvlm"
        try data.write(to: URL(fileURLWithPath: broken))
        #expect {
            _ = try ModelFileReader(path: broken)
        } throws: { error in
            "\(error)".contains("layout") && "\(error)".contains("tensor '")
        }
    }
}
