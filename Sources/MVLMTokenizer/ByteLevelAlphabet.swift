/// GPT-2's byte-to-character table (`bytes_to_unicode`): the printable bytes 33–126, 161–172 and
/// 174–255 stand for themselves; the other 68 bytes map, in order, to U+0100 onwards (so a space is
/// `Ġ` U+0120 and a newline `Ċ` U+010A). Byte-level vocabularies spell their tokens in this alphabet.
enum ByteLevelAlphabet {
    /// The character of each byte.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The UTF-8 of each byte's character (how a vocabulary spells the byte).
    static let spellings: [[UInt8]] = scalars.map { Array(String($0).utf8) }

    /// The byte of each character of the alphabet, indexed by scalar value (0..<324).
    static let bytes: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, scalar) in scalars.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The raw bytes a token spelled in the alphabet stands for, or nil if it has a character
    /// outside the alphabet (an added token such as `<|im_start|>` is all inside it).
    static func decode(_ token: String) -> [UInt8]? {
        var result: [UInt8] = []
        for scalar in token.unicodeScalars {
            let value = Int(scalar.value)
            guard value < bytes.count, bytes[value] >= 0 else { return nil }
            result.append(UInt8(bytes[value]))
        }
        return result
    }
}
