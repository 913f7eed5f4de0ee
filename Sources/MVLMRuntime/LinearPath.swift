import CMVLMKernels
import MVLMCore
import MVLMQuant

/// Which code a linear layer's weight runs through for a number of tokens — what the interpreter
/// does (`Interpreter.linearPaths(tokens:)`), or would do on another CPU level (`predicted`), so
/// that a slow path is reported, never a surprise (`mvlm bench`, `mvlm run --json`,
/// `mvlm convert --dry-run`).
///
/// The decision is `QuantizedMatVec.applies` and `Tensor.applyInPlace`'s, in one place:
/// - `integer`: a C kernel reads the stored blocks in place against 8-bit activations
///   (`mvlm_matvec_q8`, `mvlm_matvec_q8_rows16`, `mvlm_gemm_q8`);
/// - `float`: f32/f16/bf16 weights in the C float kernels (`mvlm_matvec_float`, `mvlm_gemm_float`);
/// - `widened`: the blocks are widened to f32 in Swift as the kernel reads them (decode: four rows
///   at a time in `LinearKernel`; prefill: tiles of rows, then the C float kernel), in place;
/// - `swift`: the Swift SIMD kernels (the C kernels turned off: `MVLM_KERNELS=swift`, or no vector
///   level);
/// - `reference`: the whole weight is dequantized into a temporary f32 tensor on every call, then
///   the f32 path — correct, and the slow path the reporting exists for.
public struct LinearPath: Sendable, Hashable {
    public enum Route: String, Sendable, Hashable, CaseIterable {
        case integer, float, widened, swift, reference
    }

    /// Tokens at or above which a product takes the prefill (matrix × matrix) kernels.
    public static let prefillTokens = LinearKernel.matrixThreshold

    /// The route.
    public var route: Route
    /// The kernel (a C function and its type code) or the Swift path's name.
    public var kernel: String
    /// The C kernels' level name (`avx512-vnni`, `avx2`, `neon`, `dotprod`, `i8mm`, `portable`);
    /// `swift` when no C kernel runs.
    public var level: String

    /// True when a vectorized C kernel reads the weight in place (integer or float), at a vector
    /// level. The widened path is intended for a few types (Q8_0 and INT8_B32 prefill keep f32
    /// activations for accuracy) and is not "fast" in this sense either: a report lists it.
    public var isFast: Bool { (route == .integer || route == .float) && level != "portable" }

    /// One line: `integer mvlm_matvec_q8 INT8_PC (avx512-vnni)`.
    public var description: String { "\(route.rawValue) \(kernel) (\(level))" }

    /// The C kernels' level name for `level` (`mvlm_kernels_level`) on this build's architecture,
    /// or on arm64 when `arm` is true.
    public static func levelName(_ level: Int, arm: Bool) -> String {
        switch (arm, level) {
        case (_, ..<1): "portable"
        case (false, 1): "avx2"
        case (false, _): "avx512-vnni"
        case (true, 1): "neon"
        case (true, 2): "dotprod"
        case (true, _): "i8mm"
        }
    }

    /// Whether this build runs on arm64.
    public static var isARM: Bool {
        #if arch(arm64)
            true
        #else
            false
        #endif
    }

    /// The path a weight of `dtype`, `layout` and `shape` (outputs × inputs) takes for `tokens` rows
    /// of activations with the C kernels at `level` (0 portable, as `mvlm_kernels_level`), or with
    /// the C kernels off when `nativeKernels` is false.
    public static func predicted(
        dtype: DType, layout: TensorLayout, shape: [Int], tokens: Int, level: Int, arm: Bool = isARM, nativeKernels: Bool = true
    ) -> LinearPath {
        let levelName = nativeKernels || layout == .rows16 ? Self.levelName(level, arm: arm) : "swift"
        let prefill = tokens >= LinearKernel.matrixThreshold
        switch dtype {
        case .float32, .float16, .bfloat16:
            guard nativeKernels else { return LinearPath(route: .swift, kernel: "LinearKernel \(dtype.name)", level: "swift") }
            return LinearPath(
                route: .float, kernel: (prefill ? "mvlm_gemm_float " : "mvlm_matvec_float ") + dtype.name, level: levelName)
        case .block(let type):
            if layout == .rows16 || (nativeKernels && QuantizedMatVec.integerApplies(type, shape: shape, tokens: tokens)) {
                let function =
                    if layout != .rows16 && QuantizedMatVec.legacyType(type) != nil {
                        prefill ? "mvlm_gemm_legacy" : "mvlm_matvec_legacy"  // Q5_0, Q4_1, Q5_1 (matvec_legacy.c)
                    } else if layout != .rows16 && type == .iq4_NL && prefill {
                        "mvlm_gemm_iq4nl"  // rewritten as Q8_0 16 rows at a time (iq4nl.c)
                    } else {
                        prefill
                            ? (layout == .rows16 ? "mvlm_gemm_q8_rows16" : "mvlm_gemm_q8")
                            : (layout == .rows16 ? "mvlm_matvec_q8_rows16" : "mvlm_matvec_q8")
                    }
                return LinearPath(route: .integer, kernel: "\(function) \(type.name)", level: levelName)
            }
            if Tensor.readsInPlace(type) {
                let name = nativeKernels && prefill ? "Swift tiles + mvlm_gemm_float" : "LinearKernel"
                return LinearPath(route: .widened, kernel: "\(name) \(type.name)", level: nativeKernels ? levelName : "swift")
            }
            return LinearPath(route: .reference, kernel: "BlockDequantizer \(type.name) + f32", level: nativeKernels ? levelName : "swift")
        default:
            return LinearPath(route: .reference, kernel: "unsupported \(dtype.name)", level: "swift")
        }
    }

    /// The path `weight` takes on this CPU for `tokens` rows (what `Interpreter` runs).
    public static func of(_ weight: Tensor, tokens: Int) -> LinearPath {
        predicted(
            dtype: weight.dtype, layout: weight.layout, shape: weight.shape, tokens: tokens, level: Int(mvlm_kernels_level()),
            nativeKernels: NativeKernels.isEnabled)
    }
}

extension Interpreter {
    /// The path of every linear layer's weight for `tokens` rows of activations, by weight name, in
    /// graph order (a weight used by several layers once).
    public func linearPaths(tokens: Int) -> [(weight: String, path: LinearPath)] {
        var names: [Int: String] = [:]
        for node in graph.nodes { if case .weight(let name) = node.operation { names[node.id] = name } }
        var seen = Set<String>()
        var paths: [(weight: String, path: LinearPath)] = []
        for node in graph.nodes {
            guard case .linear = node.operation, node.inputs.count >= 2, let name = names[node.inputs[1]],
                let tensor = weight(node: node.inputs[1]), seen.insert(name).inserted
            else { continue }
            paths.append((name, LinearPath.of(tensor, tokens: tokens)))
        }
        return paths
    }
}
