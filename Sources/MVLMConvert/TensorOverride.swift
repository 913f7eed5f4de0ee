import MVLMCore

/// `--override PATTERN=TYPE`: a glob over tensor names (`*` any run of characters, `?` one
/// character) and the storage type for the tensors it matches. Patterns match the names as the
/// source checkpoint has them.
public struct TensorOverride: Sendable, Hashable, CustomStringConvertible {
    public var pattern: String
    public var storage: StorageType

    /// Parses `PATTERN=TYPE`.
    /// - Throws: `MVLMError` (`.invalidArgument`) naming the text and the accepted types.
    public init(parsing text: String) throws {
        guard let equals = text.lastIndex(of: "="), equals != text.startIndex else {
            throw MVLMError(.invalidArgument, "override '\(text)' is not PATTERN=TYPE (e.g. 'lm_head.weight=Q8_0')")
        }
        let typeName = String(text[text.index(after: equals)...])
        guard let storage = StorageType(name: typeName) else {
            throw MVLMError(
                .invalidArgument,
                "override '\(text)': unknown type '\(typeName)'; use one of \(StorageType.allNames.joined(separator: ", "))")
        }
        self.pattern = String(text[..<equals])
        self.storage = storage
    }

    public init(pattern: String, storage: StorageType) {
        self.pattern = pattern
        self.storage = storage
    }

    public var description: String { "\(pattern)=\(storage)" }

    /// True when the glob matches all of `name`.
    public func matches(_ name: String) -> Bool {
        Self.glob(Array(pattern.unicodeScalars), Array(name.unicodeScalars))
    }

    /// Iterative glob matching with backtracking over the last `*` (linear in practice, no recursion).
    static func glob(_ pattern: [Unicode.Scalar], _ text: [Unicode.Scalar]) -> Bool {
        var p = 0, t = 0
        var star = -1, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
