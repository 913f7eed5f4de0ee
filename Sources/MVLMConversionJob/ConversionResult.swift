import MVLMConvert
import MVLMCore
import MVLMVerify

/// What a `ConversionJob` did.
public struct ConversionResult: Sendable {
    /// One written file.
    public struct File: Sendable {
        public var path: String
        public var bytes: Int
        public var tensors: Int
        /// GGUF files: metadata keys written.
        public var metadataKeys: Int?
    }

    public var plan: ConversionPlan
    /// The files written (one .mvlm; or the GGUF language model and, for a MobileVLM, its projector).
    public var files: [File]
    /// The `.mvlm` size `dryRun` predicted (before the verification summary was added).
    public var predictedBytes: Int?
    public var seconds: Double
    /// Whether calibration gave importance weights.
    public var calibrated: Bool
    /// The verification of the written file, when it ran.
    public var verification: VerificationReport?
    /// Why the file was not verified, when it was not (`--no-verify`, a GGUF output, an
    /// architecture the engine does not run).
    public var verificationSkipped: String?
    /// Seconds spent verifying (included in `seconds`).
    public var verificationSeconds: Double
}

/// A conversion's plan and predicted output without writing anything (`convert --dry-run`).
public struct ConversionDryRun: Sendable {
    /// One output file of a GGUF export.
    public struct GGUFPart: Sendable {
        public var label: String
        public var path: String?
        public var tensors: Int
        public var metadataKeys: Int
        public var bytes: Int
        public var dropped: [ConversionPlan.Dropped]
    }

    /// The plan (for a GGUF export: the decisions as the GGUF files hold them, unfused).
    public var plan: ConversionPlan
    /// The predicted output size in bytes (all GGUF files together).
    public var predictedBytes: Int
    /// GGUF output: the files.
    public var ggufParts: [GGUFPart]
}

/// The stages `ConversionJob.run` reports progress for.
public enum ConversionStage: String, Sendable {
    case calibrating, converting, verifying
}

/// The written file did not meet the verification budget: nothing was published.
public struct ConversionBudgetError: Error, Sendable, CustomStringConvertible {
    public var report: VerificationReport
    public var output: String

    public var description: String {
        "\(output): over budget, nothing written: \(report.violations.joined(separator: "; "))"
    }
}
