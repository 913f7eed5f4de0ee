import MVLMCore
import MVLMModels
import MVLMRuntime

/// How the quantized file's vision half differs from the float source's on one image: the
/// tower's selected features and the projector's rows (cosine and SNR), and the next-token
/// distributions of the whole model on a prompt that holds the image.
public struct ImageComparison: Sendable, Equatable {
    /// Cosine similarity of the flattened vision features (all patches), and the lowest per-patch cosine.
    public var visionFeatureCosine: Double
    public var visionFeatureMinimumRowCosine: Double
    public var visionFeatureSNR: SignalToNoise
    /// The same for the projector's output rows (what the decoder sees).
    public var imageFeatureCosine: Double
    public var imageFeatureMinimumRowCosine: Double
    public var imageFeatureSNR: SignalToNoise
    /// KL divergence and top-1 agreement over the text positions after the image.
    public var kld: SampleSummary
    public var top1Agreement: Double
    public var scoredPositions: Int
    /// Rows the image takes in the prompt.
    public var imageTokens: Int

    /// Cosine of two equal-length vectors, in Double.
    static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        let norms = (na * nb).squareRoot()
        return norms > 0 ? dot / norms : (na == nb ? 1 : 0)
    }

    /// Whole-array cosine, lowest row cosine and SNR of `candidate` against `reference`.
    static func measure(_ reference: Activation, _ candidate: Activation, name: String) -> (Double, Double, SignalToNoise) {
        var lowest = 1.0
        for row in 0..<reference.rowCount {
            lowest = min(lowest, cosine(reference.row(row), candidate.row(row)))
        }
        var snr = SignalToNoise(name: name)
        reference.values.withUnsafeBufferPointer { a in candidate.values.withUnsafeBufferPointer { b in snr.accumulate(reference: a, candidate: b) } }
        return (cosine(reference.values[...], candidate.values[...]), lowest, snr)
    }
}

extension VerificationRunner {
    /// Compares the two models on `pixels` (`[3, S, S]`, preprocessed): the encoders' outputs, then
    /// both decoders on `[bos] + image + tokens` (as many tokens as fit the window), scoring every
    /// text position after the image.
    /// - Throws: `MVLMError` when either model has no vision encoder, or the image does not fit.
    public func compareImage(pixels: [Float], tokens: [Int32], bos: Int32?) throws -> ImageComparison {
        let referenceVision = try reference.requireVision()
        _ = try candidate.requireVision()
        let f = try reference.encodeImage(pixels, threads: threads)
        let q = try candidate.encodeImage(pixels, threads: threads)
        guard f.imageFeatures.shape == q.imageFeatures.shape, f.visionFeatures.shape == q.visionFeatures.shape else {
            throw MVLMError(.invalidArgument, "the file's vision encoder gives \(Shape.describe(q.imageFeatures.shape)) rows, the source's \(Shape.describe(f.imageFeatures.shape)): they are not the same model")
        }
        let (vc, vm, vs) = ImageComparison.measure(f.visionFeatures, q.visionFeatures, name: "vision_features")
        let (ic, im, isnr) = ImageComparison.measure(f.imageFeatures, q.imageFeatures, name: "image_features")
        let imageTokens = referenceVision.configuration.imageTokenCount
        let room = max(context - imageTokens - 1, 2)
        let text = Array(tokens.prefix(room))
        var prompt: [Int32] = bos.map { [$0] } ?? []
        let imageStart = prompt.count
        prompt += [Int32](repeating: LanguageModel.imageTokenID, count: imageTokens)
        prompt += text
        var floatGenerator = try GreedyGenerator(multimodal: reference, threads: threads)
        var quantizedGenerator = try GreedyGenerator(multimodal: candidate, threads: threads)
        let a = try floatGenerator.generate(prompt: prompt, imageRows: f.imageFeatures, maxNewTokens: 0, keepPromptLogits: true).promptLogits!
        let b = try quantizedGenerator.generate(prompt: prompt, imageRows: q.imageFeatures, maxNewTokens: 0, keepPromptLogits: true).promptLogits!
        let vocabulary = a.lastDimension
        var klds: [Double] = []
        var same = 0
        a.values.withUnsafeBufferPointer { av in
            b.values.withUnsafeBufferPointer { bv in
                // The last image row predicts the first text token; every later position its next.
                for position in (imageStart + imageTokens - 1)..<(prompt.count - 1) {
                    let row = position * vocabulary
                    let c = PositionComparison(
                        float: UnsafeBufferPointer(rebasing: av[row..<(row + vocabulary)]),
                        quantized: UnsafeBufferPointer(rebasing: bv[row..<(row + vocabulary)]), target: Int(prompt[position + 1]))
                    klds.append(c.kld)
                    if c.sameTop { same += 1 }
                }
            }
        }
        return ImageComparison(
            visionFeatureCosine: vc, visionFeatureMinimumRowCosine: vm, visionFeatureSNR: vs, imageFeatureCosine: ic,
            imageFeatureMinimumRowCosine: im, imageFeatureSNR: isnr, kld: SampleSummary(klds),
            top1Agreement: klds.isEmpty ? 1 : Double(same) / Double(klds.count), scoredPositions: klds.count, imageTokens: imageTokens)
    }
}
