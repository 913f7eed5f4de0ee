import MVLMImage
import Testing

@Suite struct GeometryTests {
    /// A `width` × `height` image whose pixel (x, y) is (x, y, 7).
    static func coordinates(width: Int, height: Int) -> Image {
        var bytes: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { bytes += [UInt8(x), UInt8(y), 7] }
        }
        return Image(width: width, height: height, rgb: bytes)
    }

    @Test func expandToSquareWide() {
        let background = Image.RGB(red: 122, green: 116, blue: 104)
        let square = Self.coordinates(width: 5, height: 2).expandedToSquare(background: background)
        #expect(square.width == 5 && square.height == 5)
        // Pasted at (0, (5 - 2) // 2) = (0, 1).
        #expect(square[0, 0] == background)
        #expect(square[0, 1] == Image.RGB(red: 0, green: 0, blue: 7))
        #expect(square[4, 2] == Image.RGB(red: 4, green: 1, blue: 7))
        #expect(square[4, 3] == background && square[2, 4] == background)
    }

    @Test func expandToSquareTall() {
        let background = Image.RGB(red: 1, green: 2, blue: 3)
        let square = Self.coordinates(width: 2, height: 5).expandedToSquare(background: background)
        // Pasted at ((5 - 2) // 2, 0) = (1, 0).
        #expect(square[0, 0] == background && square[3, 4] == background)
        #expect(square[1, 0] == Image.RGB(red: 0, green: 0, blue: 7))
        #expect(square[2, 4] == Image.RGB(red: 1, green: 4, blue: 7))
    }

    @Test func expandToSquareKeepsSquares() {
        let image = Self.coordinates(width: 3, height: 3)
        #expect(image.expandedToSquare(background: .init(red: 0, green: 0, blue: 0)) == image)
    }

    @Test func centerCropTakesFloorOffsets() {
        // transformers: top = (7 - 4) // 2 = 1, left = (6 - 3) // 2 = 1.
        let crop = Self.coordinates(width: 6, height: 7).centerCropped(width: 3, height: 4)
        #expect(crop.width == 3 && crop.height == 4)
        #expect(crop[0, 0] == Image.RGB(red: 1, green: 1, blue: 7))
        #expect(crop[2, 3] == Image.RGB(red: 3, green: 4, blue: 7))
    }

    @Test func centerCropPadsWithBlackWhenLarger() {
        // 3×2 into 6×5: padded at ceil((6 - 3) / 2) = 2 columns and ceil((5 - 2) / 2) = 2 rows.
        let crop = Self.coordinates(width: 3, height: 2).centerCropped(width: 6, height: 5)
        let black = Image.RGB(red: 0, green: 0, blue: 0)
        #expect(crop[1, 2] == black && crop[2, 1] == black && crop[5, 4] == black)
        #expect(crop[2, 2] == Image.RGB(red: 0, green: 0, blue: 7))
        #expect(crop[4, 3] == Image.RGB(red: 2, green: 1, blue: 7))
    }

    @Test func centerCropMixed() {
        // Wider than the crop, shorter than it: left = (9 - 4) // 2 = 2; top pad ceil((4 - 1) / 2) = 2.
        let crop = Self.coordinates(width: 9, height: 1).centerCropped(width: 4, height: 4)
        #expect(crop[0, 2] == Image.RGB(red: 2, green: 0, blue: 7))
        #expect(crop[3, 2] == Image.RGB(red: 5, green: 0, blue: 7))
        #expect(crop[0, 1] == Image.RGB(red: 0, green: 0, blue: 0))
    }
}
