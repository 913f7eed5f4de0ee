/// A trie over byte strings with an integer value per key: exact lookups of a byte range without
/// building a key, and prefix searches (the longest user-defined symbol, unigram's lattice).
///
/// Keys are bytes, never `String`s: Swift compares strings by canonical equivalence, which would
/// make `é` and `e` + U+0301 the same vocabulary entry.
struct ByteTrie: Sendable {
    /// Edge from node `n` on byte `b`, keyed `n << 8 | b`.
    private var edges: [Int: Int32] = [:]
    /// The value stored at each node (-1: none). Node 0 is the root.
    private var values: [Int32] = [-1]

    var isEmpty: Bool { values.count == 1 }

    mutating func insert(_ key: ArraySlice<UInt8>, value: Int) {
        var node = 0
        for byte in key {
            let edge = node << 8 | Int(byte)
            if let next = edges[edge] {
                node = Int(next)
            } else {
                values.append(-1)
                let next = values.count - 1
                edges[edge] = Int32(next)
                node = next
            }
        }
        values[node] = Int32(value)
    }

    func value(for key: ArraySlice<UInt8>) -> Int? {
        var node = 0
        for byte in key {
            guard let next = edges[node << 8 | Int(byte)] else { return nil }
            node = Int(next)
        }
        return values[node] >= 0 ? Int(values[node]) : nil
    }

    /// Calls `body(end, value)` for every key that is a prefix of `bytes[start...]`, shortest first.
    func forEachPrefix(of bytes: [UInt8], from start: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var position = start
        while position < bytes.count {
            guard let next = edges[node << 8 | Int(bytes[position])] else { return }
            node = Int(next)
            position += 1
            if values[node] >= 0 { body(position, Int(values[node])) }
        }
    }

    /// The longest key that is a prefix of `bytes[start...]`: its end and value.
    func longestPrefix(of bytes: [UInt8], from start: Int) -> (end: Int, value: Int)? {
        var best: (Int, Int)?
        forEachPrefix(of: bytes, from: start) { best = ($0, $1) }
        return best
    }
}
