import MVLMCore
import Testing

/// The rows16 layout (Formats/mvlm.md, "Repacked layouts"): positions as the spec gives them,
/// a permutation that round-trips, and tensors that read back row-major.
@Suite("rows16 layout")
struct RowInterleaveTests {
    /// Row-major blocks whose every byte names its row and offset.
    static func rows(_ type: BlockType, rows: Int, units: Int) -> [UInt8] {
        (0..<(rows * units * type.blockBytes)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) }
    }

    @Test("round trip, for every type with the layout", arguments: [BlockType.q4_0, .q8_0, .q4_K, .q6_K])
    func roundTrip(type: BlockType) {
        let original = Self.rows(type, rows: 48, units: 3)
        let rowBytes = original.count / 48
        var packed = [UInt8](repeating: 0, count: original.count), back = packed
        original.withUnsafeBytes { s in packed.withUnsafeMutableBytes { RowInterleave.interleave(type, rows: 48, rowBytes: rowBytes, from: s, into: $0) } }
        packed.withUnsafeBytes { s in back.withUnsafeMutableBytes { RowInterleave.deinterleave(type, rows: 48, rowBytes: rowBytes, from: s, into: $0) } }
        #expect(back == original)
        #expect(packed != original)
        #expect(packed.sorted() == original.sorted())  // a permutation
    }

    @Test("byte positions follow the spec's record rules (Q4_0 and Q6_K spot checks)")
    func positions() {
        // Q4_0, 32 rows of 2 blocks: group 1, block 1 is the record at (1 · 16 · 36) + 1 · 288.
        let q4 = Self.rows(.q4_0, rows: 32, units: 2)
        var packed = [UInt8](repeating: 0, count: q4.count)
        q4.withUnsafeBytes { s in packed.withUnsafeMutableBytes { RowInterleave.interleave(.q4_0, rows: 32, rowBytes: 36, from: s, into: $0) } }
        let record = 16 * 36 + 288
        for r in 0..<16 {
            let row = (16 + r) * 36 + 18  // row 16 + r, block 1
            #expect(packed[record + 2 * r] == q4[row] && packed[record + 2 * r + 1] == q4[row + 1], "d of row \(r)")
            for c in 0..<4 {
                for i in 0..<4 { #expect(packed[record + 32 + (c * 16 + r) * 4 + i] == q4[row + 2 + 4 * c + i]) }
            }
        }
        // Q6_K, 16 rows of 1 super-block: ql dwords, qh dwords, scale dwords, then the 16 d values.
        let q6 = Self.rows(.q6_K, rows: 16, units: 1)
        var packed6 = [UInt8](repeating: 0, count: q6.count)
        q6.withUnsafeBytes { s in packed6.withUnsafeMutableBytes { RowInterleave.interleave(.q6_K, rows: 16, rowBytes: 210, from: s, into: $0) } }
        for r in 0..<16 {
            let row = r * 210
            #expect(packed6[(5 * 16 + r) * 4 + 2] == q6[row + 22])  // ql dword 5, byte 2
            #expect(packed6[2048 + (3 * 16 + r) * 4] == q6[row + 128 + 12])  // qh dword 3
            #expect(packed6[3072 + (1 * 16 + r) * 4 + 3] == q6[row + 192 + 7])  // scales dword 1, byte 3
            #expect(packed6[3328 + 2 * r + 1] == q6[row + 209])  // d
        }
    }

    @Test("a rows16 tensor reads back row-major; the layout is refused where it does not apply")
    func tensor() throws {
        let original = Self.rows(.q4_K, rows: 32, units: 2)
        var packed = [UInt8](repeating: 0, count: original.count)
        original.withUnsafeBytes { s in packed.withUnsafeMutableBytes { RowInterleave.interleave(.q4_K, rows: 32, rowBytes: 288, from: s, into: $0) } }
        let tensor = try Tensor(storage: packed.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(.q4_K), shape: [32, 512], layout: .rows16)
        #expect(!tensor.isContiguous)
        #expect(tensor.contiguous().withUnsafeBytes { Array($0) } == original)
        #expect(tensor.contiguous().layout == .rowMajor)
        #expect(try tensor.reshaped([32, 512]).layout == .rows16)
        let storage = packed.withUnsafeBytes { TensorStorage(copying: $0) }
        #expect(try Tensor(storage: storage, dtype: .block(.q4_K), shape: [16, 1024], layout: .rows16).layout == .rows16)
        #expect(throws: MVLMError.self) { _ = try Tensor(storage: storage, dtype: .block(.q4_K), shape: [8, 2048], layout: .rows16) }
        #expect(throws: MVLMError.self) { _ = try Tensor(storage: storage, dtype: .float16, shape: [32, 144], layout: .rows16) }
        #expect(throws: MVLMError.self) { _ = try Tensor(storage: storage, dtype: .block(.q4_1), shape: [32, 448], layout: .rows16) }
    }
}
