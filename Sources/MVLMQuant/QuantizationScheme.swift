import MVLMCore

/// A way to store a row of weights in fewer bits.
///
/// Every scheme works on rows (one output channel of a weight matrix, i.e. one row of a row-major
/// `[out, in]` matrix). A row is a whole number of blocks; each block is stored on its own, except for
/// ``int8PerChannel`` whose single scale covers the whole row. Byte layouts are little-endian. `f16`
/// means IEEE binary16, rounded to nearest even. Full layouts and error bounds: `docs/quantization.md`.
///
/// The GGUF cases (`q8_0` ... `q6_K`) write exactly the bytes of the reference quantizers when
/// `search` is false: gguf-python's `gguf.quants.quantize` for Q8_0/Q4_0/Q4_1 and llama.cpp's
/// `quantize_row_q4_K_ref`/`quantize_row_q6_K_ref` for Q4_K/Q6_K.
public enum QuantizationScheme: Hashable, Sendable, CustomStringConvertible {
    /// GGUF Q8_0: blocks of 32, 34 bytes, 8.5 bits per weight, symmetric.
    ///
    /// Layout: `f16 d` (bytes 0-1), then 32 `int8` q (bytes 2-33). Value = `d * q`.
    /// Rounding: `d = max|x| / 127`, `q = roundf(x * (1/d))` (half away from zero), computed with the
    /// unrounded f32 `d`; `d` is then stored as f16.
    case q8_0
    /// GGUF Q4_0: blocks of 32, 18 bytes, 4.5 bits per weight, symmetric with an offset of 8.
    ///
    /// Layout: `f16 d` (bytes 0-1), 16 bytes of nibbles: byte `2+j` holds q[j] in its low nibble and
    /// q[j+16] in its high nibble. Value = `d * (q - 8)`.
    /// Rounding: `m` = the element of largest magnitude (first one on ties), `d = m / -8`,
    /// `q = min(15, trunc(x * (1/d) + 8.5))`.
    case q4_0
    /// GGUF Q5_0: blocks of 32, 22 bytes, 5.5 bits per weight, symmetric with an offset of 16.
    ///
    /// Layout: `f16 d` (bytes 0-1), `u32 qh` (bytes 2-5: bit j is bit 4 of q[j]), 16 bytes of low
    /// nibbles as in Q4_0 (byte `6+j`: q[j] low, q[j+16] high). Value = `d * (q - 16)`.
    /// Rounding: `m` = the element of largest magnitude, `d = m / -16`,
    /// `q = min(31, trunc(x * (1/d) + 16.5))`. llama.cpp falls back to it for Q4_K rows whose length
    /// is not a multiple of 256.
    case q5_0
    /// GGUF Q4_1: blocks of 32, 20 bytes, 5 bits per weight, affine.
    ///
    /// Layout: `f16 d`, `f16 m` (bytes 0-3), 16 bytes of nibbles as in Q4_0. Value = `d * q + m`.
    /// Rounding: `m = min(x)`, `d = (max(x) - m) / 15`, `q = min(15, trunc((x - m) * (1/d) + 0.5))`.
    case q4_1
    /// GGUF IQ4_NL: blocks of 32, 18 bytes, 4.5 bits per weight, a fixed non-linear grid.
    ///
    /// Layout: `f16 d` (bytes 0-1), 16 bytes of 4-bit indices as Q4_0's nibbles (byte `2+j`: q[j]
    /// low, q[j+16] high). Value = `d * grid[q]`, grid = -127, -104, -83, -65, -49, -35, -22, -10, 1,
    /// 13, 25, 38, 53, 69, 89, 113 (ggml's `kvalues_iq4nl`).
    /// Rounding: llama.cpp's `quantize_iq4_nl` (what `llama-quantize` writes): per block, weights
    /// `x²` (or, with importance, `importance * sqrt(σ² + x²)`), `d` fitted by weighted least squares
    /// over 16 candidate scales, indices the nearest grid values. It already searches, so `search`
    /// alone changes nothing; `search` with importance runs its imatrix path (`quant_weights`).
    case iq4_NL
    /// GGUF Q4_K: super-blocks of 256 (8 sub-blocks of 32), 144 bytes, 4.5 bits per weight.
    ///
    /// Layout: `f16 d`, `f16 dmin` (bytes 0-3), 12 bytes of packed 6-bit sub-block scales and mins
    /// (bytes 4-15), 128 bytes of nibbles (bytes 16-143: each 32-byte run holds two sub-blocks, low
    /// nibbles the first). Value = `d * sc[j] * q - dmin * m[j]`, q in 0...15.
    /// Rounding: llama.cpp's `make_qkx2_quants` search per sub-block (weights `rms + |x|`, 21 candidate
    /// scales), 6-bit scales by nearest, then `q = nearest((x + dmin*m)/(d*sc))` clamped to 0...15.
    case q4_K
    /// GGUF Q6_K: super-blocks of 256 (16 sub-blocks of 16), 210 bytes, 6.5625 bits per weight.
    ///
    /// Layout: 128 bytes low nibbles `ql`, 64 bytes 2-bit high parts `qh`, 16 `int8` sub-block scales,
    /// `f16 d` (bytes 208-209). Value = `d * sc[j] * (q - 32)`, q in 0...63.
    /// Rounding: llama.cpp's `make_qx_quants` (rmse type 1, 19 candidate scales) per sub-block, 8-bit
    /// scales by nearest, then `q = nearest(x / (d*sc))` clamped to -32...31.
    /// With `search: true` and importance weights: llama.cpp's imatrix path
    /// (`quantize_row_q6_K_impl` with `quant_weights`: the importance replaces x² as weight).
    case q6_K
    /// Int8 per output channel ("INT8_PC"): one `f32` scale per row, symmetric, 8 bits per weight
    /// plus 32 bits per row.
    ///
    /// Layout: `f32 s` (bytes 0-3), then one `int8` q per element. Value = `s * q`, q in -127...127.
    /// Rounding (no search): `s = max|x| / 127`, `q = clamp(rne(x * (1/s)), -127, 127)`.
    /// The f32 scale (not f16) keeps the full f32 range and costs nothing per weight on real rows.
    case int8PerChannel
    /// Int8 in blocks of 32 ("INT8_B32"): symmetric, 34 bytes per block, 8.5 bits per weight.
    ///
    /// Layout: identical to Q8_0 (`f16 d`, 32 `int8`), so Q8_0 dequantizers read it. Value = `d * q`.
    /// Rounding (no search): `d = f16(max|x| / 127)` (clamped to the largest finite f16), then
    /// `q = clamp(rne(x * (1/d)), -127, 127)` against the *stored* f16 `d` (Q8_0 uses the unrounded one).
    case int8Block32
    /// Affine int4 in groups of 32, 64 or 128 ("AFFINE4_G32" ...): value = `scale * q + min`, q in 0...15.
    ///
    /// Layout per group: `f16 scale`, `f16 min` (bytes 0-3), then `groupSize/2` bytes of nibbles: byte
    /// `4+j` holds q[j] in its low nibble and q[j + groupSize/2] in its high nibble (the GGML order, so
    /// a SIMD unpack gives the two halves contiguously). With `groupSize: 32` the bytes are a valid
    /// Q4_1 block. Bits per weight: 5.0 (32), 4.5 (64), 4.25 (128).
    /// Rounding (no search): `min = f16(min(x))`, `scale = f16((max(x) - min(x)) / 15)`,
    /// `q = clamp(rne((x - min) * (1/scale)), 0, 15)` against the stored f16 values.
    case affineInt4(groupSize: Int)

    /// The group sizes ``affineInt4(groupSize:)`` accepts.
    public static let affineGroupSizes = [32, 64, 128]

    /// Every scheme this module can quantize to.
    public static let allSchemes: [QuantizationScheme] =
        [.q8_0, .q4_0, .q4_1, .q5_0, .iq4_NL, .q4_K, .q6_K, .int8PerChannel, .int8Block32]
        + affineGroupSizes.map { .affineInt4(groupSize: $0) }

    /// A short stable name: the GGUF spelling for GGUF types, else `INT8_PC`, `INT8_B32`,
    /// `AFFINE4_G32`, `AFFINE4_G64`, `AFFINE4_G128`.
    public var name: String {
        switch self {
        case .q8_0: "Q8_0"
        case .q4_0: "Q4_0"
        case .q5_0: "Q5_0"
        case .q4_1: "Q4_1"
        case .iq4_NL: "IQ4_NL"
        case .q4_K: "Q4_K"
        case .q6_K: "Q6_K"
        case .int8PerChannel: "INT8_PC"
        case .int8Block32: "INT8_B32"
        case .affineInt4(let groupSize): "AFFINE4_G\(groupSize)"
        }
    }

    public var description: String { name }

    /// Looks a scheme up by ``name``.
    public init?(name: String) {
        guard let scheme = QuantizationScheme.allSchemes.first(where: { $0.name == name }) else {
            return nil
        }
        self = scheme
    }

    /// The scheme that writes a GGUF block type, if this module quantizes to it.
    public init?(blockType: BlockType) {
        switch blockType {
        case .q8_0: self = .q8_0
        case .q4_0: self = .q4_0
        case .q5_0: self = .q5_0
        case .q4_1: self = .q4_1
        case .iq4_NL: self = .iq4_NL
        case .q4_K: self = .q4_K
        case .q6_K: self = .q6_K
        default: return nil
        }
    }

    /// The GGUF block type for GGUF schemes; `nil` for this toolkit's own schemes.
    public var blockType: BlockType? {
        switch self {
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .q5_0: .q5_0
        case .q4_1: .q4_1
        case .iq4_NL: .iq4_NL
        case .q4_K: .q4_K
        case .q6_K: .q6_K
        case .int8PerChannel, .int8Block32, .affineInt4: nil
        }
    }

    /// The tensor dtype for GGUF schemes (`.block(...)`); `nil` for this toolkit's own schemes,
    /// which `BlockType` does not list (yet).
    public var dtype: DType? { blockType.map { DType.block($0) } }

    /// Elements per block (1 for ``int8PerChannel``: any row length works).
    public var blockElements: Int {
        switch self {
        case .q8_0, .q4_0, .q4_1, .q5_0, .iq4_NL, .int8Block32: 32
        case .q4_K, .q6_K: 256
        case .int8PerChannel: 1
        case .affineInt4(let groupSize): groupSize
        }
    }

    /// Bytes per block, not counting ``rowHeaderBytes``.
    public var blockBytes: Int {
        switch self {
        case .q8_0, .int8Block32: 34
        case .q4_0, .iq4_NL: 18
        case .q5_0: 22
        case .q4_1: 20
        case .q4_K: 144
        case .q6_K: 210
        case .int8PerChannel: 1
        case .affineInt4(let groupSize): 4 + groupSize / 2
        }
    }

    /// Bytes stored once per row before the blocks (the f32 scale of ``int8PerChannel``; else 0).
    public var rowHeaderBytes: Int {
        if case .int8PerChannel = self { return 4 }
        return 0
    }

    /// Storage cost in bits per weight, not counting ``rowHeaderBytes`` (which adds `32 / rowLength`
    /// for ``int8PerChannel``).
    public var bitsPerWeight: Double { Double(blockBytes * 8) / Double(blockElements) }

    /// Throws unless the scheme's parameters are valid (an affine group size of 32, 64 or 128).
    public func validate() throws {
        if case .affineInt4(let groupSize) = self, !QuantizationScheme.affineGroupSizes.contains(groupSize) {
            throw MVLMError(
                .invalidArgument, "affine int4 group size \(groupSize) is not supported; use 32, 64 or 128",
                subject: name)
        }
    }

    /// The number of bytes a row of `elements` weights takes.
    ///
    /// - Throws: `MVLMError.invalidArgument` when `elements` is not a positive multiple of
    ///   ``blockElements`` or the scheme is invalid; `.outOfBounds` on overflow.
    public func rowByteCount(elements: Int) throws -> Int {
        try validate()
        guard elements > 0, elements % blockElements == 0 else {
            throw MVLMError(
                .invalidArgument,
                "row length \(elements) is not a positive multiple of the block size \(blockElements)",
                subject: name)
        }
        let (blocksBytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        guard !overflow, blocksBytes <= Int.max - rowHeaderBytes else {
            throw MVLMError(.outOfBounds, "row of \(elements) elements overflows a byte count", subject: name)
        }
        return blocksBytes + rowHeaderBytes
    }
}
