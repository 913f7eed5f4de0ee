import MVLMCore

/// Everything `mvlm verify --against` measured, as a table for people and a JSON object for
/// scripts (schema: docs/verify-json.md).
public struct VerificationReport: Sendable {
    /// The `.mvlm` file and the source it was checked against.
    public var file: String
    public var source: String
    public var fileBytes: Int
    /// Bits per stored weight over every tensor of the file (tensor bytes × 8 / elements).
    public var bitsPerWeight: Double
    public var comparison: OutputComparison
    /// Per source tensor reconstruction SNR (empty when skipped).
    public var weights: [WeightReconstruction.Entry]
    public var budget: VerificationBudget
    /// How many of the worst tensors to list.
    public var worstCount = 10
    /// The vision half on one image (`--image`/`--image-tensor`), when given.
    public var image: ImageComparison?
    /// Whether the source is the one the file was made from (nil when not checked).
    public var sourceCheck: SourceCheck?

    public init(
        file: String, source: String, fileBytes: Int, bitsPerWeight: Double, comparison: OutputComparison,
        weights: [WeightReconstruction.Entry], budget: VerificationBudget
    ) {
        self.file = file
        self.source = source
        self.fileBytes = fileBytes
        self.bitsPerWeight = bitsPerWeight
        self.comparison = comparison
        self.weights = weights
        self.budget = budget
    }

    /// The budget's violations (empty when it passes).
    public var violations: [String] { budget.violations(comparison) }
    public var passed: Bool { violations.isEmpty }

    /// The worst tensors by reconstruction SNR.
    public var worstTensors: [WeightReconstruction.Entry] { WeightReconstruction.worst(weights, count: worstCount) }

    /// The block whose output lost the most (lowest SNR), if any block is not exact.
    public var worstLayer: SignalToNoise? {
        comparison.layers.filter { $0.decibels != nil }.min { $0.decibels! < $1.decibels! }
    }

    static func snrValue(_ snr: SignalToNoise) -> MetadataValue {
        snr.decibels.map { .float(($0 * 1000).rounded() / 1000) } ?? .null
    }

    /// The report as one JSON object (docs/verify-json.md).
    public var json: [String: MetadataValue] {
        let c = comparison
        var object: [String: MetadataValue] = [
            "file": .string(file), "source": .string(source), "file_bytes": .int(Int64(fileBytes)),
            "bits_per_weight": .float(bitsPerWeight),
            "input": .object([
                "tokens": .int(Int64(c.tokenCount)), "scored_positions": .int(Int64(c.scoredPositions)),
                "windows": .int(Int64(c.windowCount)), "context": .int(Int64(c.context)),
            ]),
            "kld": .object([
                "mean": .float(c.kld.mean), "median": .float(c.kld.median), "p99": .float(c.kld.p99), "max": .float(c.kld.max),
            ]),
            "top1_agreement": .float(c.top1Agreement),
            "perplexity": .object([
                "float": .float(c.floatPerplexity), "quantized": .float(c.quantizedPerplexity), "ratio": .float(c.perplexityRatio),
            ]),
            "logits_cosine": .float(c.logitsCosine),
            "layers": .array(c.layers.map { .object(["name": .string($0.name), "snr_db": Self.snrValue($0)]) }, elementType: "JSON"),
            "worst_tensors": .array(
                worstTensors.map { .object(["name": .string($0.name), "stored_as": .string($0.storedAs), "snr_db": Self.snrValue($0.snr)]) },
                elementType: "JSON"),
            "budgets": .object([
                "max_kld": budget.maxKLD.map { .float($0) } ?? .null, "min_top1": budget.minTop1.map { .float($0) } ?? .null,
            ]),
            "violations": .array(violations.map { .string($0) }, elementType: "JSON"),
            "passed": .bool(passed),
        ]
        if weights.isEmpty { object["worst_tensors"] = .null }
        if let sourceCheck { object["source_check"] = sourceCheck.json }
        if let image {
            object["image"] = .object([
                "vision_features": .object([
                    "cosine": .float(image.visionFeatureCosine), "min_row_cosine": .float(image.visionFeatureMinimumRowCosine),
                    "snr_db": Self.snrValue(image.visionFeatureSNR),
                ]),
                "image_features": .object([
                    "cosine": .float(image.imageFeatureCosine), "min_row_cosine": .float(image.imageFeatureMinimumRowCosine),
                    "snr_db": Self.snrValue(image.imageFeatureSNR),
                ]),
                "image_tokens": .int(Int64(image.imageTokens)), "scored_positions": .int(Int64(image.scoredPositions)),
                "kld": .object([
                    "mean": .float(image.kld.mean), "median": .float(image.kld.median), "p99": .float(image.kld.p99),
                    "max": .float(image.kld.max),
                ]),
                "top1_agreement": .float(image.top1Agreement),
            ])
        }
        return object
    }

    /// The summary `convert --verify` records in the manifest's `verification` field.
    public func manifestSummary(input: String) -> MetadataValue {
        let c = comparison
        var summary: [String: MetadataValue] = [
            "input": .string(input), "tokens": .int(Int64(c.tokenCount)), "scored_positions": .int(Int64(c.scoredPositions)),
            "kld": .object(["mean": .float(c.kld.mean), "p99": .float(c.kld.p99), "max": .float(c.kld.max)]),
            "top1_agreement": .float(c.top1Agreement), "perplexity_ratio": .float(c.perplexityRatio),
            "logits_cosine": .float(c.logitsCosine), "passed": .bool(passed),
        ]
        if let worst = worstLayer { summary["worst_layer"] = .object(["name": .string(worst.name), "snr_db": Self.snrValue(worst)]) }
        if let image {
            summary["image"] = .object([
                "vision_feature_cosine": .float(image.visionFeatureCosine), "image_feature_cosine": .float(image.imageFeatureCosine),
                "kld_mean": .float(image.kld.mean), "top1_agreement": .float(image.top1Agreement),
            ])
        }
        if let tensor = worstTensors.first {
            summary["worst_tensor"] = .object(["name": .string(tensor.name), "stored_as": .string(tensor.storedAs), "snr_db": Self.snrValue(tensor.snr)])
        }
        return .object(summary)
    }

    /// The human-readable report.
    public var text: String {
        let c = comparison
        var lines: [String] = []
        lines.append("\(file) against \(source)")
        lines.append("  file             \(Format.bytes(fileBytes)), \(String(format: "%.3f", bitsPerWeight)) bits per weight")
        lines.append("  input            \(c.tokenCount) tokens, \(c.windowCount) window\(c.windowCount == 1 ? "" : "s") of \(c.context), \(c.scoredPositions) positions scored")
        if let sourceCheck { lines += sourceCheck.text }
        lines.append("")
        lines.append("  KL divergence    mean \(Format.number(c.kld.mean))  median \(Format.number(c.kld.median))  p99 \(Format.number(c.kld.p99))  max \(Format.number(c.kld.max))")
        lines.append("  top-1 agreement  \(Format.percent(c.top1Agreement))")
        lines.append("  perplexity       float \(Format.number(c.floatPerplexity))  quantized \(Format.number(c.quantizedPerplexity))  ratio \(String(format: "%.4f", c.perplexityRatio))")
        lines.append("  logits cosine    \(String(format: "%.6f", c.logitsCosine))")
        lines.append("")
        lines.append("  hidden state after each block (SNR, higher is better):")
        let worst = worstLayer?.name
        for layer in c.layers {
            lines.append("    \(layer.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(Format.decibels(layer.decibels).leftPadded(9))\(layer.name == worst ? "   <- lowest" : "")")
        }
        if let image {
            lines.append("")
            lines.append("  with the image (\(image.imageTokens) rows, \(image.scoredPositions) text positions scored after it):")
            lines.append("    vision features  cosine \(String(format: "%.6f", image.visionFeatureCosine))  lowest patch \(String(format: "%.6f", image.visionFeatureMinimumRowCosine))  SNR \(Format.decibels(image.visionFeatureSNR.decibels))")
            lines.append("    projector rows   cosine \(String(format: "%.6f", image.imageFeatureCosine))  lowest row \(String(format: "%.6f", image.imageFeatureMinimumRowCosine))  SNR \(Format.decibels(image.imageFeatureSNR.decibels))")
            lines.append("    KL divergence    mean \(Format.number(image.kld.mean))  p99 \(Format.number(image.kld.p99))  max \(Format.number(image.kld.max)); top-1 agreement \(Format.percent(image.top1Agreement))")
        }
        if !weights.isEmpty {
            lines.append("")
            lines.append("  weights with the lowest reconstruction SNR:")
            let tensors = worstTensors
            if tensors.isEmpty { lines.append("    none: every tensor is stored exactly") }
            for entry in tensors {
                lines.append("    \(Format.decibels(entry.snr.decibels).leftPadded(9))  \(entry.storedAs.padding(toLength: 12, withPad: " ", startingAt: 0)) \(entry.name)")
            }
        }
        lines.append("")
        if budget.maxKLD == nil && budget.minTop1 == nil {
            lines.append("  no budget given (--max-kld, --min-top1): passed")
        } else {
            lines.append(passed ? "  within budget: passed" : "  OVER BUDGET: " + violations.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
