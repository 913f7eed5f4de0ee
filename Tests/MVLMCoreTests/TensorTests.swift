import MVLMCore
import Testing

@Suite("tensor views")
struct TensorTests {
    func storage(_ values: [Float]) -> TensorStorage {
        values.withUnsafeBytes { TensorStorage(copying: $0) }
    }

    @Test("a transposed view reads back in row-major order")
    func transpose() throws {
        let base = storage([0, 1, 2, 3, 4, 5])  // 2x3
        let transposed = try Tensor(storage: base, dtype: .float32, shape: [3, 2], strides: [1, 3])
        #expect(!transposed.isContiguous)
        #expect(try transposed.floatValues() == [0, 3, 1, 4, 2, 5])
    }

    @Test("reshaped views keep the elements; a wrong count or regrouped blocks are refused")
    func reshape() throws {
        let base = storage((0..<12).map(Float.init))
        let filter = try Tensor(storage: base, dtype: .float32, shape: [2, 3, 2, 1])
        let matrix = try filter.reshaped([2, 6])
        #expect(matrix.shape == [2, 6])
        #expect(try matrix.floatValues() == (0..<12).map(Float.init))
        // A strided view is made contiguous first.
        let transposed = try Tensor(storage: base, dtype: .float32, shape: [3, 4], strides: [1, 3])
        #expect(try transposed.reshaped([12]).floatValues() == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11])
        let count = #expect(throws: MVLMError.self) { try filter.reshaped([5, 2]) }
        #expect(count?.description.contains("[2, 3, 2, 1] as [5, 2]") == true)
        let blocks = try Tensor(
            storage: try TensorStorage(byteCount: 68) { $0.initializeMemory(as: UInt8.self, repeating: 0) },
            dtype: .block(.q8_0), shape: [2, 32])
        #expect(try blocks.reshaped([1, 2, 32]).shape == [1, 2, 32])  // rows kept
        let regrouped = #expect(throws: MVLMError.self) { try blocks.reshaped([4, 16]) }
        #expect(regrouped?.description.contains("block-quantized") == true)
    }

    @Test("a view with an offset and a stride")
    func stridedSlice() throws {
        let base = storage((0..<12).map(Float.init))
        let view = try Tensor(storage: base, dtype: .float32, shape: [2, 2], strides: [6, 2], byteOffset: 4)
        #expect(try view.floatValues() == [1, 3, 7, 9])
    }

    @Test("0-d and empty tensors")
    func degenerate() throws {
        let base = storage([42])
        #expect(try Tensor(storage: base, dtype: .float32, shape: []).floatValues() == [42])
        #expect(try Tensor(storage: base, dtype: .float32, shape: [0, 5]).floatValues() == [])
        #expect(try Tensor(storage: base, dtype: .float32, shape: [3, 0], byteOffset: 4).elementCount == 0)
    }

    @Test("views that leave their storage are refused", arguments: [
        ([5], [1], 0), ([2, 2], [2, 1], 4), ([2], [4], 0), ([Int.max, 2], [1, 1], 0), ([-1], [1], 0),
        ([2], [-1], 4), ([1 << 32, 1 << 32], [1, 1], 0),
    ] as [([Int], [Int], Int)])
    func outOfBounds(shape: [Int], strides: [Int], offset: Int) {
        let base = storage([1, 2, 3, 4])  // 16 bytes
        #expect(throws: MVLMError.self) {
            try Tensor(storage: base, dtype: .float32, shape: shape, strides: strides, byteOffset: offset)
        }
    }

    @Test("block tensors must hold whole blocks")
    func blocks() throws {
        let base = try TensorStorage(byteCount: 36) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        let q8 = try Tensor(storage: base, dtype: .block(.q8_0), shape: [1, 32])
        #expect(q8.byteCount == 34)
        #expect(throws: MVLMError.self) { try Tensor(storage: base, dtype: .block(.q8_0), shape: [1, 31]) }
        #expect(throws: MVLMError.self) { try Tensor(storage: base, dtype: .block(.q8_0), shape: [2, 32]) }
    }

    @Test("dtype names round-trip and byte counts do not overflow")
    func dtypes() {
        for type in DType.scalarTypes { #expect(DType(name: type.name) == type) }
        for block in BlockType.allCases {
            #expect(DType(name: block.name) == .block(block))
            if let id = block.ggmlTypeID { #expect(BlockType(ggmlTypeID: id) == block) }
        }
        #expect(DType.float32.byteCount(elementCount: Int.max / 2) == nil)
        #expect(DType.block(.q4_0).byteCount(elementCount: 64) == 36)
        #expect(Shape.elementCount([1 << 40, 1 << 40]) == nil)
        #expect(Shape.elementCount([]) == 1)
    }

    @Test("INT8_PC sizes come from the shape: rows × (4-byte scale + row length); never from a count alone")
    func perChannelSizes() throws {
        let pc = DType.block(.int8PerChannel)
        #expect(pc.byteCount(shape: [3, 5]) == 27)
        #expect(pc.byteCount(shape: [7]) == 11)
        #expect(pc.byteCount(shape: [2, 3, 4]) == 48)
        #expect(pc.byteCount(shape: [0, 9]) == 0 && pc.byteCount(shape: [4, 0]) == 0)
        #expect(pc.byteCount(elementCount: 15) == nil)
        #expect(pc.byteCount(shape: [Int.max / 4, 8]) == nil)
        #expect(DType.block(.q4_0).byteCount(shape: [2, 64]) == 72)
        let storage = try TensorStorage(byteCount: 27) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        #expect(try Tensor(storage: storage, dtype: pc, shape: [3, 5]).byteCount == 27)
        #expect(throws: MVLMError.self) { try Tensor(storage: storage, dtype: pc, shape: [4, 5]) }
    }
}
