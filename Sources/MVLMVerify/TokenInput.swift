import Foundation
import MVLMCore
import MVLMFileIO
import MVLMModels
import MVLMNumPy

/// Token ids given on the command line: a list (`1,450,4996`), a text file of ids separated by
/// commas or white space, or an integer `.npy` array (any shape, read in C order).
///
/// Until a tokenizer exists this is how text reaches the engine; the ids must come from the
/// model's own tokenizer (e.g. `llama-tokenize --ids` or `tokenizers` in Python).
public enum TokenInput {
    /// The ids `argument` names: a path to an existing `.npy`/`.txt` file, or an inline list.
    /// - Throws: `MVLMError` (`.invalidArgument`) for an empty list, text that is not an integer,
    ///   or an id outside `0..<2^31`; file errors name the file.
    public static func read(_ argument: String) throws -> [Int32] {
        if FileManager.default.fileExists(atPath: argument) {
            if argument.hasSuffix(".npy") {
                let (_, values) = try NumPyFile.readIntegers(path: argument)
                return try values.enumerated().map { index, value in
                    guard value >= 0, value <= Int64(Int32.max) else {
                        throw MVLMError(.invalidArgument, "element \(index) is \(value), not a token id", file: argument)
                    }
                    return Int32(value)
                }
            }
            let data = try RegularFile.read(argument)
            do {
                return try parse(String(decoding: data, as: UTF8.self))
            } catch let error as MVLMError {
                throw error.inFile(argument)
            }
        }
        return try parse(argument)
    }

    /// Parses ids separated by commas and/or white space. A comma with no id before or after it
    /// (`1,,2`, `1,2,`) is refused: it is a typo, not an id.
    public static func parse(_ text: String) throws -> [Int32] {
        var ids: [Int32] = []
        let commaFields = text.split(separator: ",", omittingEmptySubsequences: false)
        for commaField in commaFields {
            let fields = commaField.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty, commaFields.count > 1 {
                throw MVLMError(.invalidArgument, "an empty field between commas in '\(text.prefix(40))' (ids are integers >= 0, separated by commas or spaces)")
            }
            for field in fields {
                guard let id = Int32(field), id >= 0 else {
                    throw MVLMError(.invalidArgument, "'\(field.prefix(40))' is not a token id (ids are integers >= 0, separated by commas or spaces)")
                }
                ids.append(id)
            }
        }
        guard !ids.isEmpty else { throw MVLMError(.invalidArgument, "no token ids given") }
        return ids
    }

    /// How many ids the built-in input has.
    public static let builtInCount = 256

    /// The built-in input of `convert --verify` when no other is given: `count` ids from a
    /// SplitMix64 sequence (seed 0), uniform in `0..<vocabularySize`. Not text, but the same on
    /// every machine, and enough to show a broken or badly quantized file.
    public static func builtIn(count: Int = builtInCount, vocabularySize: Int) -> [Int32] {
        var state: UInt64 = 0
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Int32(z % UInt64(max(vocabularySize, 1)))
        }
    }
}
