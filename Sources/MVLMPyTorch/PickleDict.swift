/// A pickle dict in insertion order: a reference type for the same reason as `PickleList`.
final class PickleDict: PickleContainer {
    /// A key that Python would compare by value (strings and integers).
    enum Key: Hashable {
        case string(String)
        case int(Int64)
    }

    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var positions: [Key: Int] = [:]

    func removeAll() {
        entries = []
        positions = [:]
    }

    /// Sets `key` to `value`; a repeated key keeps its first position, as in Python.
    func set(_ key: PickleValue, _ value: PickleValue) {
        let comparable: Key? =
            switch key {
            case .string(let text): .string(text)
            case .int(let number): .int(number)
            default: nil
            }
        if let comparable, let position = positions[comparable] {
            entries[position].value = value
            return
        }
        if let comparable { positions[comparable] = entries.count }
        entries.append((key, value))
    }
}
