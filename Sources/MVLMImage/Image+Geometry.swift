extension Image {
    /// This image pasted onto a square of `background` whose side is the longer side, as LLaVA's
    /// and MobileVLM's `expand2square` does: at `(0, (width - height) / 2)` when wider than tall,
    /// at `((height - width) / 2, 0)` when taller (integer division); a square image is returned
    /// as it is.
    public func expandedToSquare(background: RGB) -> Image {
        if width == height { return self }
        let side = max(width, height)
        let left = (side - width) / 2
        let top = (side - height) / 2
        return pasted(onto: Image(width: side, height: side, color: background), x: left, y: top)
    }

    /// The `cropWidth` × `cropHeight` centre of this image as transformers' `center_crop` takes
    /// it: top = ⌊(height - cropHeight) / 2⌋, left = ⌊(width - cropWidth) / 2⌋; where the image is
    /// smaller than the crop it is first padded with zeros (black) to the crop size, placed at
    /// ⌈(crop - size) / 2⌉, so the result always has the crop's size.
    /// - Precondition: `cropWidth` and `cropHeight` are positive.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> Image {
        precondition(cropWidth > 0 && cropHeight > 0, "a crop needs a positive size")
        if cropWidth == width && cropHeight == height { return self }
        // Both branches of transformers' center_crop reduce to the same placement: a source pixel
        // (x, y) lands at (x - left, y - top) with left/top floor-divided (negative when the crop
        // is larger, which is the ceil-rounded padding).
        let top = floorDivide(height - cropHeight, 2)
        let left = floorDivide(width - cropWidth, 2)
        return pasted(onto: Image(width: cropWidth, height: cropHeight, color: RGB(red: 0, green: 0, blue: 0)), x: -left, y: -top)
    }

    /// `canvas` with this image's pixels written at column `x`, row `y` (parts outside the canvas
    /// are dropped), like Pillow's `paste`.
    func pasted(onto canvas: Image, x: Int, y: Int) -> Image {
        var bytes = canvas.rgb
        let columns = max(0, -x)..<min(width, canvas.width - x)
        let rows = max(0, -y)..<min(height, canvas.height - y)
        guard !columns.isEmpty, !rows.isEmpty else { return canvas }
        rgb.withUnsafeBufferPointer { source in
            bytes.withUnsafeMutableBufferPointer { target in
                for row in rows {
                    let from = (row * width + columns.lowerBound) * 3
                    let to = ((row + y) * canvas.width + columns.lowerBound + x) * 3
                    let length = columns.count * 3
                    _ = UnsafeMutableBufferPointer(rebasing: target[to..<(to + length)])
                        .update(fromContentsOf: UnsafeBufferPointer(rebasing: source[from..<(from + length)]))
                }
            }
        }
        return Image(width: canvas.width, height: canvas.height, rgb: bytes)
    }
}

/// Python's `a // b` for positive `b`: rounds toward minus infinity.
func floorDivide(_ a: Int, _ b: Int) -> Int {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}
