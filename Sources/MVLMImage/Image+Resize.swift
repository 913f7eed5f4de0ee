extension Image {
    /// This image resized to `width` × `height` exactly as Pillow's
    /// `Image.resize((width, height), filter)` resizes an RGB image (bit-identical bytes).
    ///
    /// Pillow's two passes, each rounded and clipped to bytes, in the order `passOrder` says
    /// (horizontal first by default, vertical first when Pillow 13 takes it); a pass is skipped when
    /// its size is unchanged, and an unchanged size returns the image itself (Pillow returns a
    /// copy). Weights follow `ResampleCoefficients`.
    /// - Precondition: `width` and `height` are positive.
    public func resized(
        width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bicubic,
        passOrder: ResamplePassOrder = .pillow13
    ) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize needs a positive size, got \(newWidth)×\(newHeight)")
        if newWidth == width && newHeight == height { return self }
        let needHorizontal = newWidth != width
        let needVertical = newHeight != height

        if passOrder.verticalFirst(width: width, height: height, newWidth: newWidth, newHeight: newHeight) {
            let vertical = ResampleCoefficients(inputSize: height, outputSize: newHeight, filter: filter)
            var bytes = Self.verticalPass(rgb, width: width, height: height, rowOffset: 0, coefficients: vertical)
            if needHorizontal {
                let horizontal = ResampleCoefficients(inputSize: width, outputSize: newWidth, filter: filter)
                bytes = Self.horizontalPass(bytes, width: width, rows: 0..<newHeight, coefficients: horizontal)
            }
            return Image(width: newWidth, height: newHeight, rgb: bytes)
        }

        var bytes = rgb
        var passWidth = width
        var passHeight = height
        var rowOffset = 0  // the first input row of the vertical pass, within `bytes`
        let vertical = needVertical ? ResampleCoefficients(inputSize: height, outputSize: newHeight, filter: filter) : nil
        if needHorizontal {
            // Only the rows the vertical pass reads.
            let rows = vertical.map { $0.first[0]..<($0.first[newHeight - 1] + $0.count[newHeight - 1]) } ?? 0..<height
            let horizontal = ResampleCoefficients(inputSize: width, outputSize: newWidth, filter: filter)
            bytes = Self.horizontalPass(rgb, width: width, rows: rows, coefficients: horizontal)
            passWidth = newWidth
            passHeight = rows.count
            rowOffset = rows.lowerBound
        }
        if let vertical {
            bytes = Self.verticalPass(bytes, width: passWidth, height: passHeight, rowOffset: rowOffset, coefficients: vertical)
        }
        return Image(width: newWidth, height: newHeight, rgb: bytes)
    }

    /// Resamples each of `rows` of an RGB image `width` wide to `coefficients.outputSize` pixels.
    static func horizontalPass(_ input: [UInt8], width: Int, rows: Range<Int>, coefficients: ResampleCoefficients) -> [UInt8] {
        let outputWidth = coefficients.outputSize
        let kernelSize = coefficients.kernelSize
        var output = [UInt8](repeating: 0, count: outputWidth * rows.count * 3)
        let half = Int32(1 << (ResampleCoefficients.precisionBits - 1))
        input.withUnsafeBufferPointer { input in
            coefficients.weights.withUnsafeBufferPointer { weights in
                coefficients.first.withUnsafeBufferPointer { first in
                    coefficients.count.withUnsafeBufferPointer { count in
                        output.withUnsafeMutableBufferPointer { output in
                            precondition(rows.lowerBound >= 0 && rows.upperBound * width * 3 <= input.count)
                            for (outRow, row) in rows.enumerated() {
                                let lineIn = row &* width &* 3
                                let lineOut = outRow &* outputWidth &* 3
                                for x in 0..<outputWidth {
                                    let start = lineIn &+ first[x] &* 3
                                    let k = x &* kernelSize
                                    var red = half, green = half, blue = half
                                    for tap in 0..<count[x] {
                                        let weight = weights[k &+ tap]
                                        let pixel = start &+ tap &* 3
                                        red = red &+ Int32(input[pixel]) &* weight
                                        green = green &+ Int32(input[pixel &+ 1]) &* weight
                                        blue = blue &+ Int32(input[pixel &+ 2]) &* weight
                                    }
                                    output[lineOut &+ x &* 3] = ResampleCoefficients.clip(red)
                                    output[lineOut &+ x &* 3 &+ 1] = ResampleCoefficients.clip(green)
                                    output[lineOut &+ x &* 3 &+ 2] = ResampleCoefficients.clip(blue)
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Resamples the columns of an RGB image `width` × `height` to `coefficients.outputSize` rows;
    /// the coefficients index rows of the original image, `rowOffset` rows above `input`'s first.
    static func verticalPass(
        _ input: [UInt8], width: Int, height: Int, rowOffset: Int, coefficients: ResampleCoefficients
    ) -> [UInt8] {
        let outputHeight = coefficients.outputSize
        let kernelSize = coefficients.kernelSize
        let rowBytes = width * 3
        var output = [UInt8](repeating: 0, count: rowBytes * outputHeight)
        let half = Int32(1 << (ResampleCoefficients.precisionBits - 1))
        input.withUnsafeBufferPointer { input in
            coefficients.weights.withUnsafeBufferPointer { weights in
                output.withUnsafeMutableBufferPointer { output in
                    var sums = [Int32](repeating: 0, count: rowBytes)
                    sums.withUnsafeMutableBufferPointer { sums in
                        for y in 0..<outputHeight {
                            let firstRow = coefficients.first[y] - rowOffset
                            let taps = coefficients.count[y]
                            precondition(firstRow >= 0 && (firstRow + taps) <= height, "vertical window outside the rows")
                            for index in 0..<rowBytes { sums[index] = half }
                            // Row by row (the same sums as Pillow's per-pixel loop; integer
                            // addition is associative), so the inner loop runs over contiguous bytes.
                            for tap in 0..<taps {
                                let weight = weights[y &* kernelSize &+ tap]
                                let line = (firstRow &+ tap) &* rowBytes
                                for index in 0..<rowBytes {
                                    sums[index] = sums[index] &+ Int32(input[line &+ index]) &* weight
                                }
                            }
                            let lineOut = y &* rowBytes
                            for index in 0..<rowBytes {
                                output[lineOut &+ index] = ResampleCoefficients.clip(sums[index])
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}
