import MVLMCore

/// Stop strings: text that ends an answer when the model writes it (`mvlm run --stop`, the
/// library's `GenerationOptions.stopStrings`). The answer is cut before the first stop string
/// (as llama.cpp's server returns it); while streaming, the text that could still turn into a
/// stop string is held back until it either does or no longer can.
public struct StopStrings: Sendable, Hashable {
    /// The strings, none empty.
    public let strings: [String]

    /// - Throws: `MVLMError` (`.invalidArgument`) for an empty string (it would stop at once).
    public init(_ strings: [String]) throws {
        guard !strings.contains("") else {
            throw MVLMError(.invalidArgument, "a stop string is empty; it would end every answer before it starts")
        }
        self.strings = strings
    }

    /// No stop strings.
    public static let none = try! StopStrings([])

    /// `text` up to the first occurrence of any stop string (the earliest one wins), or nil
    /// when none occurs.
    public func truncate(_ text: String) -> String? {
        var earliest: String.Index?
        for string in strings {
            if let range = text.range(of: string), earliest.map({ range.lowerBound < $0 }) ?? true {
                earliest = range.lowerBound
            }
        }
        return earliest.map { String(text[..<$0]) }
    }

    /// The part of `text` (in which no stop string occurs) that can be shown now: all of it but
    /// its longest suffix that is a proper prefix of some stop string.
    public func showable(_ text: String) -> Substring {
        var held = 0
        for string in strings {
            var length = min(string.count, text.count)
            while length > held {
                if text.hasSuffix(string.prefix(length)) { held = length; break }
                length -= 1
            }
        }
        return text.dropLast(held)
    }
}
