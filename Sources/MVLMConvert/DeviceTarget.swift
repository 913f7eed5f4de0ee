import MVLMCore

/// The CPU a converted file is meant for (`convert --target`): it decides the stored layout of the
/// quantized matrices (`LayoutPass`) and is recorded in the manifest's quantization record.
///
/// Every target that repacks writes the same layout, rows16 (Formats/mvlm.md, "Repacked layouts"),
/// because it is what each of these CPUs' kernels reads fastest in place: 64 bytes hold the same 4
/// bytes of 16 rows, so
/// - AVX-512 VNNI multiplies one 512-bit load against 4 broadcast activations in one `VPDPBUSD`
///   (16 rows' sums in 16 lanes), AVX2 two 256-bit halves;
/// - ARMv8.2 `SDOT` by element takes one 128-bit load (4 rows x 4 bytes) against one activation
///   dword, so 16 rows are 4 independent accumulator chains (what the in-order Cortex-A55 needs);
///   plain NEON widens the same registers with `SMULL`/`SADALP`;
/// - ARMv8.6 `SMMLA` wants 2 rows x 8 bytes: one `ZIP1`/`ZIP2` pair of two 4-byte columns makes
///   them, once per weight register, amortized over the prefill's token tile.
/// One file therefore runs in place on all of them (no repacking at load, unlike llama.cpp's
/// per-CPU load-time repack), and a file for one target runs correctly on every other CPU: where a
/// CPU has no fast kernel for a layout, the portable C kernels read it.
public enum DeviceTarget: String, Sendable, Hashable, CaseIterable, Codable {
    /// x86-64 with AVX-512 VNNI (Ice Lake, Zen 4 and later).
    case x86AVX512 = "x86-avx512"
    /// x86-64 with AVX2, FMA and F16C (Haswell, Zen 1 and later).
    case x86AVX2 = "x86-avx2"
    /// Any arm64 CPU (ARMv8.0 NEON): Cortex-A53/A57/A72/A73 phones (Snapdragon 835 and older).
    case arm64NEON = "arm64-neon"
    /// ARMv8.2 with the dot-product extension: Cortex-A55/A75/A76/A77/A78/X1 (Snapdragon 845-888,
    /// Exynos 9820-2100, Dimensity 1000-1200, Tensor G1), Apple A13/A14/M1.
    case arm64DotProd = "arm64-dotprod"
    /// ARMv8.6 with int8 matrix multiply: Cortex-A510/A710/X2 and later (Snapdragon 8 Gen 1 and
    /// later, Dimensity 9000+, Tensor G2+), Apple A15+/M2+.
    case arm64I8MM = "arm64-i8mm"
    /// Row-major blocks everywhere (GGUF's layout; `--repack none`): for readers that know no
    /// repacked layout.
    case generic

    /// The layout the target's kernels read quantized matrices in.
    public var layout: TensorLayout { self == .generic ? .rowMajor : .rows16 }

    /// The kernel level (`mvlm_kernels_level`) the target's CPUs run: 0 portable, 1-2 on x86-64,
    /// 1-3 on arm64.
    public var kernelLevel: Int {
        switch self {
        case .generic: return 0
        case .x86AVX2, .arm64NEON: return 1
        case .x86AVX512, .arm64DotProd: return 2
        case .arm64I8MM: return 3
        }
    }

    /// One line for `convert --help`: which CPUs and phones the target serves.
    public var summary: String {
        switch self {
        case .x86AVX512: return "x86-avx512     AVX-512 VNNI (Ice Lake, Zen 4+); rows16"
        case .x86AVX2: return "x86-avx2       AVX2 + FMA (Haswell, Zen 1+); rows16"
        case .arm64NEON: return "arm64-neon     any arm64, NEON only (Snapdragon 835 and older, Cortex-A53/A57/A72/A73); rows16"
        case .arm64DotProd: return "arm64-dotprod  ARMv8.2 SDOT (Snapdragon 845-888, Exynos 9820-2100, Dimensity 1000-1200, Tensor G1, Apple A13/A14/M1); rows16"
        case .arm64I8MM: return "arm64-i8mm     ARMv8.6 SMMLA (Snapdragon 8 Gen 1+, Dimensity 9000+, Tensor G2+, Apple A15+/M2+); rows16"
        case .generic: return "generic        row-major blocks, as GGUF (same as --repack none)"
        }
    }
}
