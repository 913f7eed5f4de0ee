import MVLMCore

/// Walks the unpickled object and lists its tensors with `.`-joined names, in pickle order.
///
/// A plain state dict gives its keys as they are; wrappers such as `{"state_dict": {...}}` or
/// `{"model": {...}, "epoch": 3}` give `state_dict.<key>`; tensors in lists or tuples are named by
/// index. Non-tensor leaves (ints, strings, floats) are skipped. The walk is bounded in depth and in
/// the number of nodes visited, so shared or cyclic structures in a hostile pickle cannot blow up.
struct StateDictFlattener {
    static let maximumDepth = 64

    private(set) var tensors: [(name: String, tensor: PickleTensor)] = []
    private var names: Set<String> = []
    private var visits = 0
    private let path: String
    /// The most nodes the walk may visit. A tree has at most one node per pickle byte; sharing
    /// through the memo (BINGET, 2 bytes) lets a subtree be visited again, which torch.save only
    /// does for tensors (leaves). Four visits per byte leaves room for odd but honest sharing while
    /// cutting exponential structures (a tuple holding the previous tuple twice, 40 levels deep).
    private let maximumVisits: Int

    /// - Parameter pickleByteCount: the size of the pickle the value came from.
    init(path: String, pickleByteCount: Int) {
        self.path = path
        self.maximumVisits = 100_000 + 4 * min(pickleByteCount, Int.max / 8)
    }

    /// Lists the tensors under `root`. A lone tensor (`torch.save(tensor)`) is named `tensor`.
    mutating func flatten(_ root: PickleValue) throws {
        switch root {
        case .tensor: try visit(root, name: "tensor", depth: 0)
        case .dict, .list, .tuple: try visit(root, name: "", depth: 0)
        default:
            throw MVLMError(
                .unsupported, "the pickle holds a \(root.kind), expected a state dict of tensors",
                file: path)
        }
    }

    private mutating func visit(_ value: PickleValue, name: String?, depth: Int) throws {
        visits += 1
        guard visits <= maximumVisits, depth <= Self.maximumDepth else {
            throw MVLMError(
                .outOfBounds,
                "the pickled object nests deeper than \(Self.maximumDepth) levels or has more than \(maximumVisits) parts (shared too often)",
                file: path)
        }
        switch value {
        case .tensor(let tensor):
            guard let name else {
                throw MVLMError(
                    .unsupported, "a tensor sits under a dict key that is not a string or int", file: path)
            }
            guard names.insert(name).inserted else {
                throw MVLMError(
                    .malformed, "two tensors have the flattened name \(PyTorchText.quoted(name))", file: path)
            }
            tensors.append((name, tensor))
        case .dict(let dict):
            for (key, child) in dict.entries {
                let keyName: String? =
                    switch key {
                    case .string(let text): text
                    case .int(let number): String(number)
                    default: nil
                    }
                try visit(child, name: join(name, keyName), depth: depth + 1)
            }
        case .list(let list):
            for (index, child) in list.items.enumerated() {
                try visit(child, name: join(name, String(index)), depth: depth + 1)
            }
        case .tuple(let tuple):
            for (index, child) in tuple.items.enumerated() {
                try visit(child, name: join(name, String(index)), depth: depth + 1)
            }
        default:
            break  // ints, strings, floats, None, ...: not tensors
        }
    }

    private func join(_ prefix: String?, _ key: String?) -> String? {
        guard let prefix, let key else { return nil }
        return prefix.isEmpty ? key : prefix + "." + key
    }
}
