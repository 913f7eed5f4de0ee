import ArgumentParser
import MVLMVerify

/// The options `verify --against` and `convert` (which verifies by default) share: the image the
/// vision half is compared on, and the budget a file must meet.
struct VerificationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("An image (PNG or JPEG) to compare the vision half on as well (MobileVLM models).", valueName: "FILE"))
    var image: String?

    @Option(help: ArgumentHelp("A preprocessed float32 [3, S, S] .npy image instead of --image.", valueName: "FILE.npy"))
    var imageTensor: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Fail (exit 3) when the mean KL divergence exceeds X nats; convert then writes nothing.", valueName: "X"))
    var maxKld: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Fail (exit 3) when top-1 agreement is below Y (a fraction, 0 to 1); convert then writes nothing.", valueName: "Y"))
    var minTop1: Double?

    func validate() throws {
        if image != nil && imageTensor != nil { throw ValidationError("give the image as --image or --image-tensor, not both") }
        if let maxKld, !(maxKld >= 0) { throw ValidationError("--max-kld must be a number >= 0") }
        if let minTop1, !(0...1).contains(minTop1) { throw ValidationError("--min-top1 is a fraction between 0 and 1 (0.9 means 90%)") }
    }

    /// The budget the options set (none when neither limit is given).
    var budget: VerificationBudget { VerificationBudget(maxKLD: maxKld, minTop1: minTop1) }

    /// Whether any option was given (they all need a verification to apply to).
    var isEmpty: Bool { image == nil && imageTensor == nil && maxKld == nil && minTop1 == nil }
}
