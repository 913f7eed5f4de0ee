/// Widens one row of a weight table (an embedding lookup).
struct RowGather: WeightKernel {
    let rows: [Int]
    let width: Int
    let output: UnsafeMutablePointer<Float>

    func run<W: WeightFormat>(_ format: W.Type, _ base: UnsafeRawPointer) {
        for (index, row) in rows.enumerated() {
            let destination = output + index &* width
            let start = row &* width
            for i in 0..<width { destination[i] = W.load(base, start &+ i) }
        }
    }
}

/// Widens a whole (small) weight, e.g. a norm vector or a bias.
struct WholeWiden: WeightKernel {
    let count: Int
    func run<W: WeightFormat>(_ format: W.Type, _ base: UnsafeRawPointer) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = W.load(base, i) }
            initialized = count
        }
    }
}
