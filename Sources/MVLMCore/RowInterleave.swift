/// The rows16 layout of block-quantized matrices (Formats/mvlm.md, "Repacked layouts"): groups of 16
/// consecutive rows whose blocks are interleaved so that every 64 bytes hold the same 4 bytes of all
/// 16 rows, the layout the decode and prefill kernels read in place (one VPDPBUSD per 16 rows × 4
/// inputs on x86-64, four SDOTs on ARM).
///
/// A row's block (a super-block for the K types) is a sequence of fields in its GGUF order; a group's
/// record for that block holds each field for the 16 rows in turn: a 2-byte (f16) field as 16
/// consecutive values, a byte field of `4c` bytes as dwords `0..<c` of rows 0..15 (dword-major). The
/// layout is a permutation of the row-major bytes: same size, same values.
public enum RowInterleave {
    /// Rows per group.
    public static let groupRows = 16

    /// The field sizes (bytes, in order) of one row's block of `type`, if the layout applies to it.
    public static func fields(_ type: BlockType) -> [Int]? {
        switch type {
        case .q4_0: [2, 16]
        case .q8_0: [2, 32]
        case .q4_K: [2, 2, 12, 128]
        case .q6_K: [128, 64, 16, 2]
        default: nil
        }
    }

    /// Whether a `[rows, columns]` matrix of `type` can be stored in the rows16 layout.
    public static func applies(to type: BlockType, shape: [Int]) -> Bool {
        guard fields(type) != nil, shape.count == 2, shape[0] > 0, shape[0] % groupRows == 0 else { return false }
        return shape[1] > 0 && shape[1] % type.blockElements == 0
    }

    /// Rewrites `rows` row-major rows (a multiple of 16) of `type` blocks, `rowBytes` each, from
    /// `source` into the rows16 layout in `destination` (same size).
    public static func interleave(
        _ type: BlockType, rows: Int, rowBytes: Int, from source: UnsafeRawBufferPointer,
        into destination: UnsafeMutableRawBufferPointer
    ) {
        permute(type, rows: rows, rowBytes: rowBytes, source: source, destination: destination, toInterleaved: true)
    }

    /// The inverse of `interleave`: rows16 bytes back to row-major rows.
    public static func deinterleave(
        _ type: BlockType, rows: Int, rowBytes: Int, from source: UnsafeRawBufferPointer,
        into destination: UnsafeMutableRawBufferPointer
    ) {
        permute(type, rows: rows, rowBytes: rowBytes, source: source, destination: destination, toInterleaved: false)
    }

    private static func permute(
        _ type: BlockType, rows: Int, rowBytes: Int, source: UnsafeRawBufferPointer,
        destination: UnsafeMutableRawBufferPointer, toInterleaved: Bool
    ) {
        guard let fields = fields(type) else { preconditionFailure("\(type.name) has no rows16 layout") }
        precondition(rows % groupRows == 0 && source.count >= rows * rowBytes && destination.count >= rows * rowBytes)
        guard rows > 0, let src = source.baseAddress, let dst = destination.baseAddress else { return }
        let unitBytes = type.blockBytes
        let units = rowBytes / unitBytes
        for group in 0..<(rows / groupRows) {
            let groupBase = group * groupRows * rowBytes
            for unit in 0..<units {
                let record = groupBase + unit * unitBytes * groupRows
                var fieldAt = 0  // offset of the field within one row's block
                for size in fields {
                    let recordField = record + fieldAt * groupRows
                    for row in 0..<groupRows {
                        let rowField = groupBase + row * rowBytes + unit * unitBytes + fieldAt
                        if size == 2 {
                            copy(src, dst, rowField, recordField + 2 * row, 2, toInterleaved)
                        } else {
                            for dword in 0..<(size / 4) {
                                copy(src, dst, rowField + 4 * dword, recordField + (dword * groupRows + row) * 4, 4, toInterleaved)
                            }
                        }
                    }
                    fieldAt += size
                }
            }
        }
    }

    @inline(__always)
    private static func copy(
        _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ rowMajor: Int, _ interleaved: Int, _ count: Int,
        _ toInterleaved: Bool
    ) {
        let (from, to) = toInterleaved ? (rowMajor, interleaved) : (interleaved, rowMajor)
        if count == 4 {
            (dst + to).storeBytes(of: (src + from).loadUnaligned(as: UInt32.self), as: UInt32.self)
        } else {
            (dst + to).storeBytes(of: (src + from).loadUnaligned(as: UInt16.self), as: UInt16.self)
        }
    }
}
