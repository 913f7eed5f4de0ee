import Dispatch
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
        try stream(plan.decisions, into: writer, progress: progress)
        let complete = completeManifest(manifest)
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
    public func completeManifest(_ manifest: ModelManifest) -> ModelManifest {
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
            "decisions": .array(plan.decisions.map(Self.record), elementType: "JSON"),
            "dropped": .array(plan.dropped.map { .object(["name": .string($0.name), "reason": .string($0.reason)]) }, elementType: "JSON"),
        ])
        manifest.source = .object([
            "path": .string((checkpoint.path as NSString).lastPathComponent),
            "format": .string(checkpoint.format.rawValue),
            "files": .array(checkpoint.files.map { .object(["name": .string($0.name), "bytes": .int(Int64($0.bytes))]) }, elementType: "JSON"),
        ])
        return manifest
    }

    /// The exact size of the file `convert` would write.
    public func predictedFileSize(manifest: ModelManifest) throws -> Int {
        let tensors = try plan.decisions.map { decision in
            guard let dtype = DType(name: decision.outputDType) else {
                throw MVLMError(.unsupported, "\(decision.outputDType) cannot be stored in an .mvlm file yet", subject: "tensor '\(decision.name)'")
            }
            return (
                name: decision.name, dtype: dtype, shape: decision.shape, source: decision.provenance,
                layout: decision.manifestLayout
            )
        }
        return try ModelFileWriter.predictedFileSize(tensors: tensors, manifest: completeManifest(manifest))
    }

    static func record(_ decision: TensorDecision) -> MetadataValue {
        var object: [String: MetadataValue] = [
            "name": .string(decision.name), "role": .string(decision.role.rawValue),
            "provenancedtype": .string(decision.sourceDType), "storage": .string(decision.outputDType),
            "reason": .string(decision.reason),
        ]
        if let fallback = decision.fallback { object["fallback"] = .string(fallback) }
        return .object(object)
    }

    /// Streams one decision's tensor into `writer` (an .mvlm or a GGUF sink).
    func convert(
        _ decision: TensorDecision, writer: some ConversionSink, search: Bool, advance: (Int) -> Void
    ) throws {
        guard let storage = StorageType(name: decision.storage) else {
            throw MVLMError(.invalidArgument, "unknown storage '\(decision.storage)' in the plan")
        }
        let sources = try decision.sourceNames.map { try checkpoint.reader.tensor(named: $0).contiguous() }
        // Rows run along the last dimension; a vector (also a fused one) is one row per source.
        func rowLength(_ source: Tensor) -> Int {
            decision.shape.count <= 1 ? max(source.elementCount, 1) : max(decision.shape.last ?? 1, 1)
        }
        defer { sources.forEach { PageAdvice.release($0.storage) } }
        switch storage {
        case .keep:
            guard sources.allSatisfy({ $0.dtype == sources[0].dtype }) else {
                throw MVLMError(.invalidArgument, "fused sources differ in dtype")
            }
            try writer.beginTensor(decision, dtype: sources[0].dtype)
            let chunk = 16 << 20
            for source in sources {
                try source.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let end = min(offset + chunk, bytes.count)
                        try writer.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                        PageAdvice.release(source.storage, bytes: (source.byteOffset + offset)..<(source.byteOffset + end))
                        advance(end - offset)
                        offset = end
                    }
                }
            }
            try writer.endTensor()
        case .float(let dtype):
            try writer.beginTensor(decision, dtype: dtype)
            for source in sources {
                try streamRows(source, rows: source.elementCount / rowLength(source), rowLength: rowLength(source)) { floats in
                    let count = floats.count
                    switch dtype {
                    case .float32:
                        try writer.write(UnsafeRawBufferPointer(floats))
                        advance(count * 4)
                    default:
                        var narrow = [UInt16](repeating: 0, count: count)
                        narrow.withUnsafeMutableBufferPointer {
                            if dtype == .float16 { HalfPrecision.convertFloatToFloat16(floats, into: $0) } else {
                                HalfPrecision.convertFloatToBFloat16(floats, into: $0)
                            }
                        }
                        try narrow.withUnsafeBytes { try writer.write($0) }
                        advance(count * 2)
                    }
                }
            }
            try writer.endTensor()
        case .quantized(let scheme):
            guard let block = scheme.blockType ?? BlockType(name: scheme.name) else {
                throw MVLMError(.unsupported, "\(scheme.name) cannot be stored in an .mvlm file yet")
            }
            try writer.beginTensor(decision, dtype: .block(block))
            let rows16 = decision.storedLayout == .rows16
            let background = BackgroundWriter(sink: writer)
            for (sourceName, source) in zip(decision.sourceNames, sources) {
                let rowLength = rowLength(source)
                let rowBytes = try scheme.rowByteCount(elements: rowLength)
                let weights = importance[sourceName]
                let rowGroup = rows16 ? RowInterleave.groupRows : 1
                if let statistics = gptq[sourceName], statistics.columns == rowLength {
                    let encoded = try quantizeWithGPTQ(
                        source, rows: source.elementCount / rowLength, rowLength: rowLength, scheme: scheme,
                        statistics: statistics, search: search)
                    try background.submit(rows16 ? Self.interleaved(encoded, block, rows: encoded.count / rowBytes, rowBytes: rowBytes) : encoded)
                    advance(encoded.count)
                    continue
                }
                try streamRows(source, rows: source.elementCount / rowLength, rowLength: rowLength, rowGroup: rowGroup) { floats in
                    let chunkRows = floats.count / rowLength
                    // Every byte is written by the quantizer (no zero fill first).
                    var encoded = [UInt8](unsafeUninitializedCapacity: chunkRows * rowBytes) { _, count in
                        count = chunkRows * rowBytes
                    }
                    try encoded.withUnsafeMutableBytes { out in
                        if let weights {
                            try weights.withUnsafeBufferPointer {
                                try scheme.quantize(matrix: floats, rows: chunkRows, columns: rowLength, into: out, importance: $0, search: search)
                            }
                        } else {
                            try scheme.quantize(matrix: floats, rows: chunkRows, columns: rowLength, into: out, search: search)
                        }
                    }
                    // Written (and, for rows16, repacked: the layout pass checked that every part
                    // holds whole groups of 16 rows, and chunks are cut at multiples of 16 rows) on
                    // the background queue while the next chunk is widened and quantized.
                    if rows16 {
                        try background.submit(encoded) { encoded in
                            Self.interleaved(encoded, block, rows: chunkRows, rowBytes: rowBytes)
                        }
                    } else {
                        try background.submit(encoded)
                    }
                    advance(encoded.count)
                }
            }
            try background.drain()
            try writer.endTensor()
        }
    }

    /// `rows` row-major rows of `block` blocks in the rows16 layout.
    static func interleaved(_ encoded: [UInt8], _ block: BlockType, rows: Int, rowBytes: Int) -> [UInt8] {
        var packed = [UInt8](repeating: 0, count: encoded.count)
        encoded.withUnsafeBytes { source in
            packed.withUnsafeMutableBytes { RowInterleave.interleave(block, rows: rows, rowBytes: rowBytes, from: source, into: $0) }
        }
        return packed
    }

    /// `RowWidening.widen` on two halves of the rows at once (widening f16 runs at memory speed on
    /// one core; the conversion's serial part).
    static func widenInParallel(
        _ bytes: UnsafeRawBufferPointer, dtype: DType, rowLength: Int, firstRow: Int, rows: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws {
        let parts = rows * rowLength >= 1 << 16 && rows >= 2 ? 2 : 1
        guard parts > 1 else {
            return try RowWidening.widen(bytes, dtype: dtype, rowLength: rowLength, firstRow: firstRow, rows: rows, into: output)
        }
        let split = rows / 2
        let failures = UncheckedFailures()
        let shared = UncheckedWiden(bytes: bytes, output: output)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let begin = part == 0 ? 0 : split, end = part == 0 ? split : rows
            do {
                try RowWidening.widen(
                    shared.bytes, dtype: dtype, rowLength: rowLength, firstRow: firstRow + begin, rows: end - begin,
                    into: UnsafeMutableBufferPointer(rebasing: shared.output[(begin * rowLength)..<(end * rowLength)]))
            } catch {
                failures.record(error)
            }
        }
        if let error = failures.first { throw error }
    }

    /// Hands `body` the tensor's rows as f32, a chunk of rows at a time. Chunks hold a multiple of
    /// `rowGroup` rows (except a last, shorter one).
    func streamRows(
        _ tensor: Tensor, rows: Int, rowLength: Int, rowGroup: Int = 1, _ body: (UnsafeBufferPointer<Float>) throws -> Void
    ) throws {
        let rowsPerChunk = max(rowGroup, ConversionPlan.chunkElements / rowLength / rowGroup * rowGroup)
        var buffer = [Float](repeating: 0, count: min(rows, rowsPerChunk) * rowLength)
        try tensor.withUnsafeBytes { bytes in
            var row = 0
            while row < rows {
                let count = min(rowsPerChunk, rows - row)
                try buffer.withUnsafeMutableBufferPointer { out in
                    try Self.widenInParallel(bytes, dtype: tensor.dtype, rowLength: rowLength, firstRow: row, rows: count, into: out)
                }
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<(count * rowLength)])) }
                // Drop the source pages of these rows: streaming keeps RSS at the chunk size.
                let rowBytes = tensor.dtype.byteCount(shape: [rowLength]) ?? 0
                PageAdvice.release(
                    tensor.storage, bytes: (tensor.byteOffset + row * rowBytes)..<(tensor.byteOffset + (row + count) * rowBytes))
                row += count
            }
        }
    }
}

/// The buffers `widenInParallel` shares between its two halves (disjoint rows).
private struct UncheckedWiden: @unchecked Sendable {
    var bytes: UnsafeRawBufferPointer
    var output: UnsafeMutableBufferPointer<Float>
}

/// The first error of concurrent work.
private final class UncheckedFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func record(_ error: Error) { lock.withLock { errors.append(error) } }
    var first: Error? { lock.withLock { errors.first } }
}
