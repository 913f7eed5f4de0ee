import MVLMCore

extension PNGDecoder {
    /// Converts one row of stored PNG samples (after libpng's unpacking to one byte per sub-byte
    /// sample) to RGB exactly as Pillow does for `Image.open(f).convert("RGB")`:
    ///
    /// | colour type, bits | Pillow mode | to RGB |
    /// |---|---|---|
    /// | gray 1 | `1` | 0 → 0, 1 → 255, replicated |
    /// | gray 2, 4 | `L` (`L;2`, `L;4`) | scaled by 85, 17, replicated |
    /// | gray 8 | `L` | replicated |
    /// | gray 16 | `I;16` | clipped: values above 255 become 255 (not `>> 8`), replicated |
    /// | RGB 8 / 16 | `RGB` | as stored / the high byte of each sample |
    /// | palette 1–8 | `P` | the PLTE entry; an index past the palette is black |
    /// | gray+alpha 8 / 16 | `LA` / `RGBA` | gray (its high byte at 16) replicated, alpha dropped |
    /// | RGBA 8 / 16 | `RGBA` | alpha dropped / high bytes |
    ///
    /// tRNS transparency is ignored, as `convert("RGB")` ignores it.
    struct RowConverter: Sendable {
        let colorType: Int
        let bitDepth: Int
        /// Samples per stored pixel.
        let channels: Int
        let bytesPerSample: Int
        /// 256 RGB entries, black past the PLTE's count.
        let palette: [UInt8]

        init(colorType: Int, bitDepth: Int, palette: [UInt8], paletteCount: Int, name: String) throws {
            let valid: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
            guard let depths = valid[colorType], depths.contains(bitDepth) else {
                throw MVLMError(.malformed, "PNG colour type \(colorType) with bit depth \(bitDepth) is not allowed by the PNG specification", file: name)
            }
            self.colorType = colorType
            self.bitDepth = bitDepth
            self.channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
            self.bytesPerSample = bitDepth == 16 ? 2 : 1
            var table = [UInt8](repeating: 0, count: 768)
            let count = min(max(paletteCount, 0), 256)
            for index in 0..<(count * 3) { table[index] = palette[index] }
            self.palette = table
        }

        /// Writes `width` RGB pixels of the stored `row` to `out`.
        func convert(_ row: UnsafeBufferPointer<UInt8>, width: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
            precondition(row.count >= width * channels * bytesPerSample && out.count >= width * 3, "row buffers too short")
            switch (colorType, bitDepth) {
            case (0, 16):
                for x in 0..<width {
                    let value = row[x &* 2] == 0 ? row[x &* 2 &+ 1] : 255
                    out[x &* 3] = value
                    out[x &* 3 &+ 1] = value
                    out[x &* 3 &+ 2] = value
                }
            case (0, _), (4, _):
                let scale: UInt8 = bitDepth == 1 ? 255 : bitDepth == 2 ? 85 : bitDepth == 4 ? 17 : 1
                let stride = channels * bytesPerSample
                for x in 0..<width {
                    let value = row[x &* stride] &* scale
                    out[x &* 3] = value
                    out[x &* 3 &+ 1] = value
                    out[x &* 3 &+ 2] = value
                }
            case (3, _):
                palette.withUnsafeBufferPointer { table in
                    for x in 0..<width {
                        let entry = Int(row[x]) &* 3
                        out[x &* 3] = table[entry]
                        out[x &* 3 &+ 1] = table[entry &+ 1]
                        out[x &* 3 &+ 2] = table[entry &+ 2]
                    }
                }
            default:
                // RGB or RGBA: the first three samples, high bytes at 16 bits.
                let stride = channels * bytesPerSample
                for x in 0..<width {
                    let source = x &* stride
                    out[x &* 3] = row[source]
                    out[x &* 3 &+ 1] = row[source &+ bytesPerSample]
                    out[x &* 3 &+ 2] = row[source &+ 2 &* bytesPerSample]
                }
            }
        }
    }
}
