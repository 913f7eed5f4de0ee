import CMVLMKernels
import Foundation

/// Whether products go through the C kernels of `CMVLMKernels`, decided once from the CPU and the
/// `MVLM_KERNELS` environment variable.
///
/// By default the C kernels run when the CPU has a vector level (`mvlm_kernels_level()` ≥ 1,
/// chosen at run time by the C target): on x86-64 AVX2 + FMA + F16C (1) or AVX-512 F/BW/DQ/VL with
/// VNNI (2); on arm64 always, NEON (1), dot product (2) or int8 matrix multiply (3). On other CPUs
/// the Swift SIMD kernels run. `MVLM_KERNELS=swift` turns the C kernels off (every product in Swift
/// with f32 activations); `MVLM_KERNELS=portable` runs the C kernels' portable versions. Both are
/// for comparisons and tests.
enum NativeKernels {
    static let isEnabled: Bool = {
        switch ProcessInfo.processInfo.environment["MVLM_KERNELS"] {
        case "swift": return false
        case "portable":
            mvlm_kernels_set_level(0)
            return true
        default: return mvlm_kernels_level() >= 1
        }
    }()
}
