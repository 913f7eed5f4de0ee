/// Carries a value into `concurrentPerform`; callers guarantee the threads touch disjoint memory.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
