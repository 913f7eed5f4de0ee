/// Keeps a searched encoding only when it reconstructs the row strictly better than the plain
/// round-to-nearest one, measured in Double precision on the dequantized values. This is what makes
/// "search is never worse than round-to-nearest" hold for every block and row, not on average.
enum Refinement {
    /// `out` holds the baseline encoding of `row` (`byteCount` bytes). `encodeCandidate` writes the
    /// searched encoding into the buffer it is given and returns false if it has none; `decode`
    /// reconstructs an encoding. The better one ends up in `out`.
    @inline(__always)
    static func keepBetter(
        row: RowView, out: UnsafeMutableRawPointer, byteCount: Int,
        encodeCandidate: (UnsafeMutableRawPointer) -> Bool,
        decode: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
    ) {
        withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 16) { candidate in
            let candidateBytes = candidate.baseAddress!
            guard encodeCandidate(candidateBytes) else { return }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: row.count &* 2) { floats in
                let baselineValues = floats.baseAddress!, candidateValues = baselineValues + row.count
                decode(UnsafeRawPointer(out), baselineValues)
                decode(UnsafeRawPointer(candidateBytes), candidateValues)
                let baselineError = row.exactError(baselineValues)
                let candidateError = row.exactError(candidateValues)
                // Strictly better by more than Double rounding of the sums, so any other summation
                // order still sees "not worse".
                if candidateError < baselineError * (1 - 1e-12) {
                    out.copyMemory(from: candidateBytes, byteCount: byteCount)
                }
            }
        }
    }
}
