import Foundation
import MVLMCore

/// What `mvlm inspect` reports about a checkpoint: format, architecture, the tensor table, totals,
/// config and metadata. Encodes to the JSON schema documented in docs/inspect-json.md.
public struct InspectReport: Sendable, Encodable {
    public struct Row: Sendable, Encodable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: Int
        public var file: String
    }

    public struct DTypeTotal: Sendable, Encodable {
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
    }

    public struct Totals: Sendable, Encodable {
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
        public var byDType: [String: DTypeTotal]
        enum CodingKeys: String, CodingKey {
            case tensors, parameters, bytes
            case byDType = "by_dtype"
        }
    }

    public var path: String
    public var format: String
    public var architecture: String
    public var architectureEvidence: String
    public var modelType: String?
    public var files: [Checkpoint.File]
    public var tensors: [Row]
    public var totals: Totals
    public var config: [String: MetadataValue]
    public var metadata: [String: MetadataValue]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case path, format, architecture
        case architectureEvidence = "architecture_evidence"
        case modelType = "model_type"
        case files, tensors, totals, config, metadata, notes
    }

    /// Arrays longer than this are summarized in `metadata` (GGUF vocabularies hold 10^5 strings).
    public static let maximumArrayItems = 64

    public init(checkpoint: Checkpoint) {
        let infos = checkpoint.reader.tensorInfos
        let architecture = checkpoint.architecture
        path = checkpoint.path
        format = checkpoint.format.rawValue
        self.architecture = architecture.kind.rawValue
        architectureEvidence = architecture.evidence
        modelType = architecture.modelType
        files = checkpoint.files
        tensors = infos.map { Row(name: $0.name, dtype: $0.dtype.name, shape: $0.shape, bytes: $0.byteCount, file: $0.file) }
        var byDType: [String: DTypeTotal] = [:]
        var parameters = 0
        var bytes = 0
        for info in infos {
            let count = info.elementCount
            parameters += count
            bytes += info.byteCount
            byDType[info.dtype.name, default: DTypeTotal(tensors: 0, parameters: 0, bytes: 0)].tensors += 1
            byDType[info.dtype.name]!.parameters += count
            byDType[info.dtype.name]!.bytes += info.byteCount
        }
        totals = Totals(tensors: infos.count, parameters: parameters, bytes: bytes, byDType: byDType)
        config = checkpoint.config
        metadata = checkpoint.reader.metadata.mapValues { InspectReport.summarize($0) }
        notes = checkpoint.notes
    }

    /// Replaces long arrays by `{"type": "array", "element_type", "count", "head"}`.
    static func summarize(_ value: MetadataValue) -> MetadataValue {
        switch value {
        case .array(let values, let elementType) where values.count > maximumArrayItems:
            return .object([
                "type": .string("array"), "element_type": .string(elementType),
                "count": .int(Int64(values.count)),
                "head": .array(values.prefix(8).map(summarize), elementType: elementType),
            ])
        case .array(let values, let elementType):
            return .array(values.map(summarize), elementType: elementType)
        case .object(let members):
            return .object(members.mapValues(summarize))
        default:
            return value
        }
    }

    /// The report as one pretty-printed JSON object with sorted keys.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The report as text for a terminal of `width` columns (`nil`: never truncate, for pipes).
    public func text(width: Int?) -> String {
        var lines: [String] = []
        let fileSummary = files.map { "\($0.name) (\(ByteCountText.format($0.bytes)))" }.joined(separator: ", ")
        lines.append("\(path)")
        lines.append("  format        \(format)\(files.count > 1 ? ", \(files.count) files" : ""): \(fileSummary)")
        lines.append("  architecture  \(architecture)  [\(architectureEvidence)]")
        for note in notes { lines.append("  note          \(note)") }
        if let recipe = metadata["quantization"], let preset = recipe["preset"]?.stringValue {
            var line = "  quantization  preset \(preset)"
            if let target = recipe["target"]?.stringValue { line += ", target \(target)" }
            if let bits = recipe["bits_per_weight"]?.doubleValue { line += String(format: ", %.3f bits per weight", bits) }
            if let tokens = recipe["calibration"]?["tokens"]?.intValue {
                line += ", calibrated on \(tokens) tokens (\(recipe["calibration"]?["input"]?.stringValue ?? "?"))"
            }
            lines.append(line)
        }
        if let tokenizer = metadata["tokenizer"]?.stringValue { lines.append("  tokenizer     \(tokenizer)") }
        if let skipped = metadata["verification"]?["skipped"]?.stringValue {
            lines.append("  verified      no: \(skipped)")
        } else if let summary = metadata["verification"] {
            func number(_ value: MetadataValue?) -> String { value?.doubleValue.map { String(format: "%.4g", $0) } ?? "?" }
            var line = "  verified      KL divergence mean \(number(summary["kld"]?["mean"])), p99 \(number(summary["kld"]?["p99"]))"
            line += "; top-1 \(summary["top1_agreement"]?.doubleValue.map { String(format: "%.2f%%", $0 * 100) } ?? "?")"
            line += "; perplexity ratio \(number(summary["perplexity_ratio"]))"
            if let worst = summary["worst_layer"], let name = worst["name"]?.stringValue {
                line += "; lowest block SNR \(name) \(worst["snr_db"]?.doubleValue.map { String(format: "%.1f dB", $0) } ?? "exact")"
            }
            lines.append(line)
            if let image = summary["image"] {
                lines.append("                image: vision features cosine \(image["vision_feature_cosine"]?.doubleValue.map { String(format: "%.6f", $0) } ?? "?"), projector rows cosine \(image["image_feature_cosine"]?.doubleValue.map { String(format: "%.6f", $0) } ?? "?"), KL divergence after the image \(number(image["kld_mean"]))")
            }
            if let input = summary["input"]?.stringValue { lines.append("                on \(input)") }
        }
        lines.append("")

        // Tensor table.
        let multiFile = Set(tensors.map(\.file)).count > 1
        let headers = ["name", "dtype", "shape", "bytes"] + (multiFile ? ["file"] : [])
        let cells = tensors.map { row -> [String] in
            [row.name, row.dtype, Shape.describe(row.shape), ByteCountText.format(row.bytes)] + (multiFile ? [row.file] : [])
        }
        var widths = headers.map(\.count)
        for row in cells { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        if let width {
            let others = widths.dropFirst().reduce(0, +) + 2 * (widths.count - 1) + 2
            widths[0] = max(16, min(widths[0], width - others))
        }
        func render(_ row: [String]) -> String {
            var parts: [String] = []
            for (index, cell) in row.enumerated() {
                var text = cell
                if index == 0, text.count > widths[0] { text = ByteCountText.elide(text, to: widths[0]) }
                let padding = String(repeating: " ", count: max(0, widths[index] - text.count))
                // Numbers right-aligned, text left-aligned.
                parts.append(index == 3 ? padding + text : text + padding)
            }
            return "  " + parts.joined(separator: "  ").trimmingTrailingSpaces()
        }
        lines.append(render(headers))
        for row in cells { lines.append(render(row)) }
        lines.append("")

        lines.append("  totals  \(totals.tensors) tensors, \(ByteCountText.grouped(totals.parameters)) parameters, \(ByteCountText.format(totals.bytes))")
        for (name, total) in totals.byDType.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            lines.append("          \(name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(total.tensors) tensors, \(ByteCountText.grouped(total.parameters)) parameters, \(ByteCountText.format(total.bytes))")
        }
        if !config.isEmpty {
            lines.append("")
            lines.append("  config.json")
            for key in config.keys.sorted() {
                lines.append(clip("    \(key) = \(config[key]!.summary())", width))
            }
        }
        if !metadata.isEmpty {
            lines.append("")
            lines.append("  metadata")
            for key in metadata.keys.sorted() {
                lines.append(clip("    \(key) = \(metadata[key]!.summary())", width))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func clip(_ line: String, _ width: Int?) -> String {
        guard let width, line.count > width else { return line }
        return String(line.prefix(max(width - 1, 10))) + "…"
    }
}

/// Human-readable byte counts and numbers.
public enum ByteCountText {
    /// `1536` -> `1.5 KiB`; exact below 1 KiB.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `1234567` -> `1,234,567`.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// Shortens `text` to `width` characters by replacing its middle with `…`.
    public static func elide(_ text: String, to width: Int) -> String {
        guard text.count > width, width > 3 else { return text }
        let keep = width - 1
        let head = keep / 2
        return String(text.prefix(head)) + "…" + String(text.suffix(keep - head))
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
