import MVLMConversionJob

/// One progress bar per stage of a conversion, each finished when the next stage starts.
final class ProgressBars {
    private var stage: ConversionStage?
    private var bar: ProgressBar?

    func update(_ stage: ConversionStage, done: Int, total: Int) {
        if stage != self.stage {
            bar?.finish()
            self.stage = stage
            bar = switch stage {
            case .converting: ProgressBar(label: "convert")
            case .calibrating: ProgressBar(label: "calibrate", unit: .items("windows"))
            case .verifying: ProgressBar(label: "verify", unit: .items("windows"))
            }
        }
        bar?.update(done: done, total: total)
    }

    func finish() {
        bar?.finish()
        bar = nil
        stage = nil
    }
}
