import MVLMCore
import Testing

/// A hostile fixture and what its error must say: the error code and a keyword of the message.
public struct HostileCase: CustomTestStringConvertible, Sendable {
    public var file: String
    public var code: MVLMError.Code
    public var keyword: String
    public var testDescription: String { file }

    public init(file: String, code: MVLMError.Code, keyword: String) {
        self.file = file
        self.code = code
        self.keyword = keyword
    }
}
