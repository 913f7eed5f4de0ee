/// A checkpoint tensor the model does not read, with the reason. Loaders list every such tensor
/// instead of dropping it silently.
public struct UnusedTensor: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    public var description: String { "\(name): \(reason)" }
}
