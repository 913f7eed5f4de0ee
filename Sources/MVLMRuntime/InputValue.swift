/// A value given to a graph input.
public enum InputValue: Sendable {
    /// Token ids for an `i32` input.
    case tokens([Int32])
    /// Floats for an `f32` input.
    case floats(Activation)

    var shape: [Int] {
        switch self {
        case .tokens(let ids): [ids.count]
        case .floats(let activation): activation.shape
        }
    }
}
