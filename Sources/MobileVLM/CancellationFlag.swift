import Foundation

/// A flag one task sets and another polls (a stream's consumer stops listening; generation ends
/// at the next token).
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
