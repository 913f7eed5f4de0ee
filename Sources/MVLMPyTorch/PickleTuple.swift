/// A pickle tuple (immutable once built).
final class PickleTuple: PickleContainer {
    private(set) var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
    func removeAll() { items = [] }
}
