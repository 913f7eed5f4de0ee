/// A pickle list: a reference type because the memo and the stack share it while APPEND fills it.
final class PickleList: PickleContainer {
    var items: [PickleValue] = []
    func removeAll() { items = [] }
}
