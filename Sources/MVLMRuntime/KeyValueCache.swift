/// Keys and values of every attention layer for the tokens seen so far.
///
/// Each slot stores rows of `kvHeads * headDim` floats, one row per position, appended as tokens
/// arrive; memory grows with the sequence (`2 × layers × kvHeads × headDim × 4` bytes a token).
public struct KeyValueCache: Sendable {
    var keys: [[Float]]
    var values: [[Float]]

    init(slots: Int) {
        keys = Array(repeating: [], count: slots)
        values = Array(repeating: [], count: slots)
    }

    /// Bytes held by the cache.
    public var byteCount: Int {
        keys.reduce(0) { $0 + $1.count * 4 } + values.reduce(0) { $0 + $1.count * 4 }
    }

    mutating func removeAll() {
        for slot in keys.indices {
            keys[slot].removeAll(keepingCapacity: true)
            values[slot].removeAll(keepingCapacity: true)
        }
    }

    /// Drops everything after the first `rows` rows of width `widths[slot]` in every slot.
    mutating func truncate(rows: Int, widths: [Int]) {
        for slot in keys.indices where widths[slot] > 0 {
            let keep = rows * widths[slot]
            if keys[slot].count > keep { keys[slot].removeSubrange(keep...) }
            if values[slot].count > keep { values[slot].removeSubrange(keep...) }
        }
    }
}
