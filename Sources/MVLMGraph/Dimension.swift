/// One dimension of a tensor type in a graph: a fixed size, or a symbol bound when the graph runs.
///
/// Language-model graphs use the symbol `T` for the number of tokens in one call (the whole prompt
/// at prefill, 1 at decode), so the same graph serves both.
public enum Dimension: Hashable, Sendable, CustomStringConvertible {
    /// A size known when the graph is built.
    case fixed(Int)
    /// A size bound at run time, by name.
    case symbol(String)

    /// The fixed size, or nil for a symbol.
    public var fixedValue: Int? {
        if case .fixed(let value) = self { return value }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let value): String(value)
        case .symbol(let name): name
        }
    }

    /// The size with `bindings` applied, or nil for an unbound symbol.
    public func resolved(_ bindings: [String: Int]) -> Int? {
        switch self {
        case .fixed(let value): value
        case .symbol(let name): bindings[name]
        }
    }
}
