/// The sliding window of a 2-D convolution or pooling over a `height × width` grid stored
/// token-major (`[height * width, channels]`, row by row): square kernel, one stride and zero
/// padding on every side.
public struct PlanarWindow: Hashable, Sendable, CustomStringConvertible {
    /// Rows of the input grid.
    public var height: Int
    /// Columns of the input grid.
    public var width: Int
    /// Side of the square kernel.
    public var kernel: Int
    public var stride: Int
    /// Zero rows and columns added on every side.
    public var padding: Int

    public init(height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    /// Rows of the output grid, `(height + 2 padding - kernel) / stride + 1` (PyTorch's rule).
    public var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    /// Columns of the output grid.
    public var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }

    /// Why the window is unusable, or nil when it is valid.
    var problem: String? {
        if height < 1 || width < 1 { return "grid \(height)x\(width) is empty" }
        if kernel < 1 || stride < 1 { return "kernel \(kernel) and stride \(stride) must be positive" }
        if padding < 0 || padding >= kernel { return "padding \(padding) must be in 0..<kernel (\(kernel))" }
        if height + 2 * padding < kernel || width + 2 * padding < kernel {
            return "kernel \(kernel) does not fit the padded \(height)x\(width) grid"
        }
        return nil
    }

    public var description: String {
        "grid: \(height)x\(width), kernel: \(kernel), stride: \(stride), padding: \(padding)"
    }
}
