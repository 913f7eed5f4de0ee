import MVLMImage
import Testing

@Suite struct ResizeTests {
    /// Pillow's `Image.resize` bytes, exactly: down, up, one axis, mixed, 1×1, every filter, both
    /// pass orders (Pillow 13's own, and Pillow 12's horizontal-first one pass at a time).
    @Test(arguments: ImageExpectations.shared.resize)
    func resizeMatchesPillowExactly(_ fixture: ImageExpectations.Resize) throws {
        let source = try ImageExpectations.pillowImage(fixture.source)
        let filter = try #require(ResampleFilter(rawValue: fixture.filter))
        let order = try #require(ResamplePassOrder(rawValue: fixture.order))
        let oracle = try NumPyArray.fixture("resize/" + fixture.npy)
        #expect(oracle.shape == [fixture.height, fixture.width, 3])
        let resized = source.resized(width: fixture.width, height: fixture.height, filter: filter, passOrder: order)
        #expect(resized.width == fixture.width && resized.height == fixture.height)
        let difference = byteDifference(resized.rgb, try #require(oracle.bytes))
        #expect(difference.count == 0, "\(fixture.filter) \(fixture.width)×\(fixture.height): \(difference.count) bytes differ, by up to \(difference.max)")
    }

    @Test func sameSizeIsUnchanged() throws {
        let source = try ImageExpectations.pillowImage("rgb_160x104.png")
        #expect(source.resized(width: 160, height: 104) == source)
    }

    @Test func pillow13PassOrderRule() {
        let order = ResamplePassOrder.pillow13
        #expect(order.verticalFirst(width: 160, height: 104, newWidth: 211, newHeight: 39))
        #expect(order.verticalFirst(width: 160, height: 104, newWidth: 129, newHeight: 40))
        #expect(!order.verticalFirst(width: 160, height: 104, newWidth: 128, newHeight: 40))  // 64 == 2 × 32
        #expect(!order.verticalFirst(width: 100, height: 100, newWidth: 150, newHeight: 150))  // no vertical shrink
        #expect(!ResamplePassOrder.horizontalFirst.verticalFirst(width: 160, height: 104, newWidth: 211, newHeight: 39))
        // With padding both axes scale alike, so CLIP-336 never goes vertical first.
        #expect(!order.verticalFirst(width: 1000, height: 1000, newWidth: 336, newHeight: 336))
    }

    @Test func pillowCodesRoundTrip() {
        for filter in ResampleFilter.allCases {
            #expect(ResampleFilter(pillowCode: filter.pillowCode) == filter)
        }
        #expect(ResampleFilter(pillowCode: 0) == nil)  // nearest
        #expect(ResampleFilter(pillowCode: 3) == .bicubic)
    }

    @Test func bicubicWeights() {
        // Keys' kernel with a = -0.5: 1 at 0, 0 at the integers, -0.0625 at 1.5, 0.5625 at 0.5.
        #expect(ResampleFilter.bicubic.weight(0) == 1)
        #expect(ResampleFilter.bicubic.weight(1) == 0)
        #expect(ResampleFilter.bicubic.weight(2) == 0)
        #expect(ResampleFilter.bicubic.weight(0.5) == 0.5625)
        #expect(ResampleFilter.bicubic.weight(-1.5) == -0.0625)
    }
}
