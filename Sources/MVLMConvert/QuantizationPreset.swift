import MVLMQuant

/// A named mixed-precision recipe: the storage type of each weight from its role, its layer and
/// its shape. The GGUF-named presets mean what llama.cpp's `llama-quantize` presets mean for a LLaMA
/// model (`llama_tensor_get_type` in llama.cpp's `src/llama-quant.cpp`).
public struct QuantizationPreset: Sendable, Hashable {
    public enum Name: String, Sendable, CaseIterable, Codable {
        /// Every matrix F16.
        case f16
        /// Every matrix Q8_0 (output head too).
        case q8_0
        /// Matrices Q4_0; the output head Q6_K (llama.cpp's `Q4_0`).
        case q4_0
        /// Matrices IQ4_NL; the output head Q6_K (llama.cpp's `IQ4_NL`, except that llama.cpp also
        /// gives FFN down of the first eighth of the layers Q5_K when it has no importance matrix, and
        /// attention V Q5_K when 4 or more heads share a KV head: Q5_K is not written here).
        case iq4_nl
        /// Matrices Q4_K; attention V and FFN down Q6_K in the first and last eighth of the layers and
        /// every third layer between; the output head Q6_K (llama.cpp's `Q4_K_M`).
        case q4_k_m
        /// The toolkit's recommendation: the `q4_k_m` mix with the error-minimizing scale search (and
        /// importance weights when calibrated).
        case `default`
    }

    public var name: Name

    public init(_ name: Name) { self.name = name }

    /// One line per preset for help texts.
    public static var summaries: [String] {
        [
            "f16      every matrix F16 (reference quality, 16 bits per weight)",
            "q8_0     every matrix Q8_0 (8.5 bits per weight)",
            "q4_0     matrices Q4_0, output head Q6_K (as llama.cpp's Q4_0)",
            "iq4_nl   matrices IQ4_NL (non-linear 4-bit grid), output head Q6_K (llama.cpp's IQ4_NL without its Q5_K rows)",
            "q4_k_m   matrices Q4_K, attention V / FFN down Q6_K in sensitive layers, output head Q6_K (as llama.cpp's Q4_K_M)",
            "default  the q4_k_m mix with scale search (and importance weights when calibrated)",
            "A MobileVLM's vision tower block matrices and projector MLP are Q8_0 under every preset but f16",
            "(8-bit products, chosen by measured accuracy and speed: docs/vision.md); to keep them F16 add",
            "--override '*vision_tower*proj.weight=f16' --override '*vision_tower*fc?.weight=f16'",
            "--override '*mm_projector*mlp*.weight=f16'. Embeddings, the patch filter and convolutions stay F16.",
        ]
    }

    /// Whether quantizers search for error-minimizing scales (otherwise the reference rounding,
    /// byte-identical to gguf-py / llama.cpp).
    public var searchesScales: Bool { name == .default }

    /// llama.cpp's `use_more_bits`: the first and last eighth of the layers, and every third between.
    static func usesMoreBits(layer: Int, layerCount: Int) -> Bool {
        layer < layerCount / 8 || layer >= 7 * layerCount / 8 || (layer - layerCount / 8) % 3 == 2
    }

    /// The storage type of a weight, and why.
    /// - Parameters:
    ///   - role: the tensor's role.
    ///   - layer: its block index, if any.
    ///   - layerCount: the number of blocks in its stack.
    ///   - rank: its number of dimensions.
    ///   - tiedEmbeddings: whether the token embedding also serves as the output head.
    public func storage(
        role: TensorRole, layer: Int?, layerCount: Int, rank: Int, tiedEmbeddings: Bool
    ) -> (StorageType, reason: String) {
        if rank < 2 { return (.float(.float32), "vectors (norms, biases) stay F32") }
        if role == .visionTower || role == .projector {
            // The tower's block matrices (q/k/v/out, fc1, fc2) and the projector's MLP: Q8_0, run
            // with 8-bit activations through the integer GEMM (docs/vision.md has the measured
            // cost). Embeddings, the patch filter and the convolutions stay F16.
            if name != .f16, rank == 2, role == .projector || layer != nil {
                return (.quantized(.q8_0), "\(name.rawValue): \(role.rawValue) matrices Q8_0 (8-bit products; an f16 override keeps F16)")
            }
            return (.float(.float16), "\(role.rawValue) defaults to F16 (quantize it with --override)")
        }
        let head = role == .outputHead || (tiedEmbeddings && role == .tokenEmbedding)
        switch name {
        case .f16:
            return (.float(.float16), "preset f16")
        case .q8_0:
            return (.quantized(.q8_0), "preset q8_0")
        case .q4_0:
            if head { return (.quantized(.q6_K), "q4_0: output head Q6_K") }
            return (.quantized(.q4_0), "preset q4_0")
        case .iq4_nl:
            if head { return (.quantized(.q6_K), "iq4_nl: output head Q6_K") }
            return (.quantized(.iq4_NL), "preset iq4_nl")
        case .q4_k_m, .default:
            if head { return (.quantized(.q6_K), "\(name.rawValue): output head Q6_K") }
            if role == .attentionValue || role == .ffnDown, let layer,
                Self.usesMoreBits(layer: layer, layerCount: layerCount)
            {
                return (.quantized(.q6_K), "\(name.rawValue): \(role.rawValue) of layer \(layer) gets more bits")
            }
            return (.quantized(.q4_K), "preset \(name.rawValue)")
        }
    }

    /// The type used when `storage` does not fit a row of `rowLength` elements, and why: llama.cpp's
    /// fallbacks (`tensor_type_fallback`: Q4_K → Q5_0, Q6_K → Q8_0, then F16).
    public static func fallback(for storage: StorageType, rowLength: Int) -> (StorageType, reason: String)? {
        guard rowLength % storage.rowMultiple != 0 else { return nil }
        let candidates: [StorageType]
        switch storage {
        case .quantized(.q4_K):
            candidates = [.quantized(.q5_0), .float(.float16)]
        case .quantized(.q6_K):
            candidates = [.quantized(.q8_0), .float(.float16)]
        case .quantized(.affineInt4(let group)) where group > 32:
            candidates = [.quantized(.affineInt4(groupSize: 32)), .float(.float16)]
        default:
            candidates = [.float(.float16)]
        }
        let chosen = candidates.first { rowLength % $0.rowMultiple == 0 } ?? .float(.float32)
        return (
            chosen,
            "row length \(rowLength) is not a multiple of \(storage)'s block of \(storage.rowMultiple); using \(chosen)"
        )
    }
}
