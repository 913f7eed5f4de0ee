import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMFileIO
import MVLMModelFile
import MVLMQuant

/// Streams a checkpoint into an `.mvlm` file following a `ConversionPlan`, tensor by tensor and,
/// inside a tensor, in chunks of rows, so memory stays bounded by the chunk size whatever the
/// model's size (source pages are released from the mapping as soon as they are used).
public struct ModelConverter: Sendable {
    public var checkpoint: Checkpoint
    public var plan: ConversionPlan
    /// Per source tensor, the importance of each input column (mean squared calibration
    /// activations), used by the scale search.
    public var importance: [String: [Float]] = [:]
    /// Where the importance weights came from (recorded in the manifest), e.g.
    /// `{"input": "calib.txt", "tokens": 4096}`.
    public var calibration: MetadataValue?
    /// Per source tensor, its input's second moment: those tensors are quantized with GPTQ's
    /// error-compensating rounding (`mvlm convert --gptq`; ModelConverter+GPTQ.swift).
    public var gptq: [String: GPTQStatistics] = [:]

    public init(checkpoint: Checkpoint, plan: ConversionPlan) {
        self.checkpoint = checkpoint
        self.plan = plan
    }

    /// Writes the output file.
    /// - Parameters:
    ///   - path: the `.mvlm` file to write (atomically).
    ///   - manifest: the manifest to complete (architecture, config, graph, ...); the converter adds
    ///     the quantization record, the source identity and the tensor table.
    ///   - progress: called after each chunk with (bytes written, total bytes).
    ///   - review: called with the complete file under its temporary name before it is published;
    ///     a manifest it returns replaces the written one (see `ModelFileWriter.finish`).
    /// - Returns: the manifest as written.
    @discardableResult
    public func convert(
        to path: String, manifest: ModelManifest, progress: (Int, Int) -> Void = { _, _ in },
        review: ((String, ModelManifest) throws -> ModelManifest?)? = nil
    ) throws -> ModelManifest {
        let writer = try ModelFileWriter(path: path)
        // The sources' SHA-256 (the manifest's provenance), hashed on a thread of its own while
        // the tensors stream.
        let digests = SourceHashing(checkpoint.filePaths)
        try stream(plan.decisions, into: writer, progress: progress)
        let complete = completeManifest(manifest, sourceDigests: try digests.result())
        return try writer.finish(manifest: complete, review: review.map { review in { try review($0, complete) } })
    }

    /// Streams the tensors of `decisions` (in order) into `sink`: the one conversion loop every
    /// output format shares.
    /// - Parameter progress: called after each chunk with (bytes written, bytes of `decisions`).
    /// - Throws: `MVLMError` naming the tensor and the source file.
    public func stream(
        _ decisions: [TensorDecision], into sink: some ConversionSink, progress: (Int, Int) -> Void = { _, _ in }
    ) throws {
        let search = searchesScales
        let total = decisions.reduce(0) { $0 + $1.bytes }
        var written = 0
        for decision in decisions {
            do {
                try convert(decision, writer: sink, search: search) { bytes in
                    written += bytes
                    progress(written, total)
                }
            } catch let error as MVLMError {
                var error = error
                if error.subject == nil { error.subject = "tensor '\(decision.name)'" }
                if error.file == nil { error.file = checkpoint.path }
                throw error
            }
        }
    }

    /// Whether the quantizers run their error-minimizing scale search: the `default` preset
    /// always does; any preset does once calibration gave importance weights (the search is what
    /// uses them, as llama.cpp's quantizers do with an importance matrix).
    public var searchesScales: Bool { QuantizationPreset(plan.preset).searchesScales || !importance.isEmpty }

    /// `manifest` with the quantization record and the source identity added (what `convert` writes).
    /// - Parameter sourceDigests: each source file's SHA-256 by name (`Checkpoint.sha256Digests`),
    ///   recorded as `source.files[].sha256`; nil records none.
    public func completeManifest(_ manifest: ModelManifest, sourceDigests: [String: String]? = nil) -> ModelManifest {
        var manifest = manifest
        let search = searchesScales
        manifest.quantization = .object([
            "preset": .string(plan.preset.rawValue),
            "target": .string(plan.target.rawValue),
            "overrides": .array(plan.overrides.map { .string($0) }, elementType: "JSON"),
            "scale_search": .bool(search),
            "importance": .bool(!importance.isEmpty),
            "gptq": .bool(!gptq.isEmpty),
            "calibration": calibration ?? .null,
            "bits_per_weight": .float((plan.bitsPerWeight * 1000).rounded() / 1000),
            "decisions": .array(plan.decisions.map { (try? $0.manifestValue) ?? .null }, elementType: "JSON"),
            "dropped": .array(plan.dropped.map { .object(["name": .string($0.name), "reason": .string($0.reason)]) }, elementType: "JSON"),
        ])
        manifest.source = .object([
            "path": .string((checkpoint.path as NSString).lastPathComponent),
            "format": .string(checkpoint.format.rawValue),
            "files": .array(
                checkpoint.files.map { file in
                    var entry: [String: MetadataValue] = ["name": .string(file.name), "bytes": .int(Int64(file.bytes))]
                    if let digest = sourceDigests?[file.name] { entry["sha256"] = .string(digest) }
                    return .object(entry)
                }, elementType: "JSON"),
        ])
        return manifest
    }

    /// The exact size of the file `convert` would write.
    public func predictedFileSize(manifest: ModelManifest) throws -> Int {
        let tensors = plan.decisions.map { decision in
            (
                name: decision.name, dtype: decision.outputDType, shape: decision.shape, source: decision.provenance,
                layout: decision.manifestLayout
            )
        }
        // Digests are 64 hex digits whatever the bytes: zeros here give the written size.
        let placeholders = Dictionary(checkpoint.files.map { ($0.name, String(repeating: "0", count: 64)) }, uniquingKeysWith: { a, _ in a })
        return try ModelFileWriter.predictedFileSize(tensors: tensors, manifest: completeManifest(manifest, sourceDigests: placeholders))
    }

    /// Streams one decision's tensor into `writer` (an .mvlm or a GGUF sink): copied through,
    /// cast to a float type, or quantized (`CopyStreamer`, `CastStreamer`, `QuantizeStreamer`).
    func convert(
        _ decision: TensorDecision, writer: some ConversionSink, search: Bool, advance: (Int) -> Void
    ) throws {
        let sources = try decision.sourceNames.map { try checkpoint.reader.tensor(named: $0).contiguous() }
        defer { sources.forEach { RowStreamer.release($0) } }
        switch decision.storage {
        case .keep:
            try CopyStreamer().stream(decision, sources: sources, into: writer, advance: advance)
        case .float(let dtype):
            try CastStreamer(dtype: dtype).stream(decision, sources: sources, into: writer, advance: advance)
        case .quantized(let scheme):
            let streamer = QuantizeStreamer(scheme: scheme, search: search, importance: importance, gptq: gptq)
            try streamer.stream(decision, sources: sources, into: writer, advance: advance)
        }
    }
}
