import MVLMConvert
import MVLMCore
import MVLMTokenizer
import MVLMVerify

/// Everything `ConversionJob` needs to know, as `mvlm convert`'s flags say it. Plain values with
/// the CLI's defaults.
public struct ConversionOptions: Sendable {
    /// The output file's format.
    public enum OutputFormat: String, Sendable, CaseIterable {
        /// The toolkit's `.mvlm` file (Formats/mvlm.md).
        case mvlm
        /// llama.cpp GGUF files: the language model, and a vision projector's `.mmproj.gguf`.
        case gguf
    }

    /// Whether the written file is verified against its source before it is published.
    public enum VerificationMode: String, Sendable, CaseIterable {
        /// Verify when the engine runs the source's architecture and the output is `.mvlm`; else
        /// record why not (the default of `mvlm convert`).
        case automatic
        /// Always verify; fail when it cannot be done (`convert --verify`).
        case required
        /// Do not verify; the manifest records that verification was skipped (`--no-verify`).
        case off
    }

    /// A checkpoint file or folder.
    public var source: String
    /// The file to write; nil only for planning (`plan()`, `dryRun()`).
    public var output: String?
    public var format: OutputFormat = .mvlm
    public var preset: QuantizationPreset.Name = .default
    /// `--override PATTERN=TYPE`, first match wins.
    public var overrides: [TensorOverride] = []
    /// Fuse q/k/v and gate/up (`.mvlm` output only; GGUF keeps projections apart).
    public var fuse = true
    /// The CPU the file is laid out for (`.mvlm` output; GGUF is always row-major).
    public var target: DeviceTarget = .x86AVX512
    /// Calibration input: token ids (a list, .txt or .npy) or a text file.
    public var calibration: String?
    /// With `calibration`: GPTQ error-compensating rounding (the second moment XᵀX of every linear
    /// layer's input, gathered on the calibration text; `mvlm convert --gptq`).
    public var gptq = false
    /// The tokenizer to embed and to read a calibration text with (default: the source's own).
    public var tokenizer: String?
    /// Replaces the embedded tokenizer's chat template: given the tokenizer, the template text
    /// (`--chat-template`); nil keeps the source's.
    public var chatTemplate: (@Sendable (Tokenizer) throws -> String)?
    public var verification: VerificationMode = .automatic
    /// Token ids to verify on (default: the built-in 256 pseudo-random ids).
    public var verifyTokens: String?
    /// An image (PNG or JPEG) or a preprocessed `[3, S, S]` float32 `.npy` to verify the vision half on.
    public var verifyImage: String?
    public var verifyImageTensor: String?
    /// Limits the verification must meet (`--max-kld`, `--min-top1`); over budget, nothing is written.
    public var budget = VerificationBudget()
    /// The CLIP folder that configures a MobileVLM checkpoint's vision tower.
    public var visionTower: String?
    /// Window length in tokens for calibration and verification.
    public var context = 512
    /// Threads for calibration and verification.
    public var threads: Int
    /// GGUF output: where a vision projector goes (default: OUT.mmproj.gguf).
    public var projectorPath: String?

    public init(source: String, output: String? = nil, threads: Int) {
        self.source = source
        self.output = output
        self.threads = threads
    }

    /// The format `output`'s extension implies: `.gguf` → gguf, else mvlm.
    public static func format(forOutput output: String?) -> OutputFormat {
        output?.lowercased().hasSuffix(".gguf") == true ? .gguf : .mvlm
    }

    /// Where the vision-projector GGUF goes by default: `OUT.mmproj.gguf` beside `OUT.gguf`.
    public static func projectorPath(forOutput output: String) -> String {
        let base = output.lowercased().hasSuffix(".gguf") ? String(output.dropLast(5)) : output
        return base + ".mmproj.gguf"
    }
}
