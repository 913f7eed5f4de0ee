/// A container the arena can empty.
protocol PickleContainer: AnyObject {
    func removeAll()
}

/// Owns every container an unpickler made, and empties them without recursion.
final class PickleArena {
    private var containers: [any PickleContainer] = []

    func register<C: PickleContainer>(_ container: C) -> C {
        containers.append(container)
        return container
    }

    /// Empties every container, breaking chains and cycles so that releasing them is shallow.
    func removeAll() {
        for container in containers { container.removeAll() }
        containers.removeAll()
    }

    deinit { removeAll() }
}
