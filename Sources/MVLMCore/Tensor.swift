/// An n-dimensional array view over `TensorStorage`.
///
/// Scalar tensors may be strided views (PyTorch checkpoints hold transposes and slices of shared
/// storages); block-quantized tensors are always contiguous. Creating a tensor validates that every
/// element it can address lies inside the storage, so no later access can leave it.
public struct Tensor: Sendable {
    public let dtype: DType
    public let shape: [Int]
    /// Strides in elements (row-major for a contiguous tensor).
    public let strides: [Int]
    /// Offset of element 0 from the start of `storage`, in bytes.
    public let byteOffset: Int
    public let storage: TensorStorage
    /// How a block tensor's rows are arranged in `storage` (`.rowMajor` unless the file stored the
    /// matrix repacked for the kernels; `withUnsafeBytes` and `contiguous()` always give row-major).
    public let layout: TensorLayout

    /// Number of elements.
    public let elementCount: Int

    /// How many bytes more than its storage holds a view may describe (a broadcast, stride-0 or
    /// overlapping view repeats elements): 64 MiB. `contiguous()` materializes such a view, so
    /// this bounds the memory a file's shape and strides can make us allocate.
    public static let viewExpansionAllowance = 64 << 20

    /// Creates a view and checks it lies within `storage`.
    /// - Throws: `MVLMError` (`.outOfBounds`) when the shape overflows, a stride is negative, an
    ///   addressable element lies outside the storage, or the view describes more than
    ///   `viewExpansionAllowance` bytes beyond its storage; `.invalidArgument` for a strided block
    ///   tensor.
    public init(
        storage: TensorStorage, dtype: DType, shape: [Int], strides: [Int]? = nil,
        byteOffset: Int = 0, layout: TensorLayout = .rowMajor
    ) throws {
        if layout == .rows16 {
            guard case .block(let type) = dtype, RowInterleave.applies(to: type, shape: shape) else {
                throw MVLMError(
                    .malformed,
                    "the rows16 layout needs a Q4_0, Q8_0, Q4_K or Q6_K matrix whose row count is a multiple of 16, not \(dtype.name) \(Shape.describe(shape))")
            }
        }
        guard let count = Shape.elementCount(shape) else {
            throw MVLMError(
                .outOfBounds,
                "shape \(Shape.describe(shape)) has a negative dimension or its element count overflows")
        }
        let strides = strides ?? Shape.contiguousStrides(shape)
        guard strides.count == shape.count else {
            throw MVLMError(
                .malformed, "shape \(Shape.describe(shape)) and strides \(Shape.describe(strides)) differ in rank")
        }
        guard byteOffset >= 0 else {
            throw MVLMError(.outOfBounds, "negative byte offset \(byteOffset)")
        }
        let span: Int  // bytes from element 0 to one past the last addressable byte
        if count == 0 {
            span = 0
        } else if let elementSize = dtype.scalarByteSize {
            var last = 0
            for (dimension, stride) in zip(shape, strides) {
                guard stride >= 0 else {
                    throw MVLMError(.outOfBounds, "negative stride \(stride) in \(Shape.describe(strides))")
                }
                let (term, o1) = (dimension - 1).multipliedReportingOverflow(by: stride)
                let (sum, o2) = last.addingReportingOverflow(term)
                guard !o1, !o2 else {
                    throw MVLMError(.outOfBounds, "strides \(Shape.describe(strides)) overflow")
                }
                last = sum
            }
            let (bytes, o3) = (last + 1).multipliedReportingOverflow(by: elementSize)
            guard !o3 else { throw MVLMError(.outOfBounds, "byte span overflows") }
            span = bytes
        } else {
            guard strides == Shape.contiguousStrides(shape) else {
                throw MVLMError(.invalidArgument, "a \(dtype.name) tensor must be contiguous")
            }
            guard let bytes = dtype.byteCount(shape: shape) else {
                throw MVLMError(
                    .malformed,
                    "shape \(Shape.describe(shape)) is not a whole number of \(dtype.name) blocks")
            }
            span = bytes
        }
        if let elementSize = dtype.scalarByteSize {
            let (logical, overflow) = count.multipliedReportingOverflow(by: elementSize)
            guard !overflow, logical <= storage.count &+ Tensor.viewExpansionAllowance else {
                throw MVLMError(
                    .outOfBounds,
                    "view \(Shape.describe(shape)) with strides \(Shape.describe(strides)) describes \(overflow ? Int.max : logical) bytes over a \(storage.count)-byte storage (a repeating view may exceed its storage by at most \(Tensor.viewExpansionAllowance >> 20) MiB)")
            }
        }
        let (end, o4) = byteOffset.addingReportingOverflow(span)
        guard !o4, end <= storage.count else {
            throw MVLMError(
                .outOfBounds,
                "view needs bytes \(byteOffset)..<\(o4 ? Int.max : end) but its storage has \(storage.count)")
        }
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.byteOffset = byteOffset
        self.elementCount = count
        self.layout = layout
    }

    /// True when the elements are stored in row-major order without gaps.
    public var isContiguous: Bool {
        if layout != .rowMajor { return false }
        // No elements: nothing to gather (the strides of a zero-sized dimension are arbitrary).
        if shape.contains(0) { return true }
        var expected = 1
        for index in shape.indices.reversed() where shape[index] != 1 {
            if strides[index] != expected { return false }
            expected = expected &* shape[index]
        }
        return true
    }

    /// The number of bytes the elements occupy when contiguous.
    public var byteCount: Int { dtype.byteCount(shape: shape) ?? 0 }

    /// Calls `body` with the tensor's bytes in row-major order. A strided view is copied first.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let tensor = isContiguous ? self : contiguous()
        let length = tensor.byteCount
        return try tensor.storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[tensor.byteOffset..<(tensor.byteOffset + length)]))
        }
    }

    /// Calls `body` with the bytes exactly as stored (for a `.rows16` tensor, its repacked groups;
    /// otherwise the same as `withUnsafeBytes` on a contiguous tensor). For kernels that read the
    /// stored layout in place, and for checksums of the stored bytes.
    public func withUnsafeStoredBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if layout == .rowMajor { return try withUnsafeBytes(body) }
        let length = byteCount
        return try storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[byteOffset..<(byteOffset + length)]))
        }
    }

    /// A contiguous tensor with the same elements: `self` if already contiguous, else a copy.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        if layout == .rows16, case .block(let type) = dtype {
            let length = byteCount, rowBytes = length / shape[0]
            // A row-major copy of bytes that exist: only an out-of-memory system fails this.
            let storage = try! TensorStorage(byteCount: length) { destination in
                self.storage.withUnsafeBytes { all in
                    RowInterleave.deinterleave(
                        type, rows: shape[0], rowBytes: rowBytes,
                        from: UnsafeRawBufferPointer(rebasing: all[byteOffset..<(byteOffset + length)]), into: destination)
                }
            }
            return try! Tensor(storage: storage, dtype: dtype, shape: shape)
        }
        let elementSize = dtype.scalarByteSize!  // block tensors are always contiguous
        // At most viewExpansionAllowance more than the storage (checked when the view was made).
        let storage = try! TensorStorage(byteCount: elementCount * elementSize) { destination in
            self.storage.withUnsafeBytes { source in
                Tensor.gather(
                    from: source, offset: byteOffset, shape: shape, strides: strides,
                    elementSize: elementSize, into: destination)
            }
        }
        // The copy is row-major and exactly sized, so this cannot fail.
        return try! Tensor(storage: storage, dtype: dtype, shape: shape)
    }

    private static func gather(
        from source: UnsafeRawBufferPointer, offset: Int, shape: [Int], strides: [Int],
        elementSize: Int, into destination: UnsafeMutableRawBufferPointer
    ) {
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var written = 0
        let total = destination.count
        guard let sourceBase = source.baseAddress, let destinationBase = destination.baseAddress,
            total > 0
        else { return }
        // Copy runs along the innermost dimension; the view was bounds-checked at creation.
        let innerCount = rank == 0 ? 1 : shape[rank - 1]
        let innerStride = rank == 0 ? 1 : strides[rank - 1]
        while written < total {
            var elementOffset = 0
            for axis in 0..<max(rank - 1, 0) { elementOffset &+= index[axis] &* strides[axis] }
            let rowStart = offset &+ elementOffset &* elementSize
            if innerStride == 1 {
                (destinationBase + written).copyMemory(
                    from: sourceBase + rowStart, byteCount: innerCount &* elementSize)
                written &+= innerCount &* elementSize
            } else {
                for inner in 0..<innerCount {
                    (destinationBase + written).copyMemory(
                        from: sourceBase + (rowStart &+ inner &* innerStride &* elementSize),
                        byteCount: elementSize)
                    written &+= elementSize
                }
            }
            // Advance the outer index (odometer over all but the last axis).
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { break }
        }
    }
}
