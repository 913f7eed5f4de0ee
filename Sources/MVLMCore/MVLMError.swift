/// The error every MobileVLMKit module throws: what went wrong, where, and how to fix it.
///
/// `description` is one line that names the file and the tensor or field concerned, so the CLI can
/// print it as is: `model.safetensors: tensor 'lm_head.weight': data range 0..<4096 overlaps ...`.
public struct MVLMError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input ends before a structure it declares.
        public static let truncated = Code("truncated")
        /// A structure is not what its format allows (bad magic, bad JSON, inconsistent sizes).
        public static let malformed = Code("malformed")
        /// A valid input uses something this toolkit does not support (yet).
        public static let unsupported = Code("unsupported")
        /// An offset, length or shape points outside the data it must lie in, or overflows.
        public static let outOfBounds = Code("out-of-bounds")
        /// The input would run code if loaded by its usual tool (a pickle calling `os.system`).
        public static let unsafeContent = Code("unsafe-content")
        /// A named tensor, file or field does not exist.
        public static let notFound = Code("not-found")
        /// The operating system refused an I/O operation.
        public static let io = Code("io")
        /// A caller passed an argument that cannot work.
        public static let invalidArgument = Code("invalid-argument")
    }

    public var code: Code
    /// What happened, and where possible what was expected and how to fix it.
    public var message: String
    /// The file concerned (as the user named it), if any.
    public var file: String?
    /// The tensor or field concerned, if any.
    public var subject: String?

    public init(_ code: Code, _ message: String, file: String? = nil, subject: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.subject = subject
    }

    /// The same error with `file` set if it had none.
    public func inFile(_ path: String) -> MVLMError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let subject { parts.append(subject) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}
