/// UTF-8 decoding that replaces each invalid byte by U+FFFD, as sentencepiece's `DecodeUTF8` does
/// (one replacement per byte, not per maximal subpart as `String(decoding:as:)` does).
enum UTF8Repair {
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// The length of the valid UTF-8 character at `bytes[index]`, or nil when it is invalid.
    static func validLength(_ bytes: [UInt8], at index: Int) -> Int? {
        let lead = bytes[index]
        let available = bytes.count - index
        func trail(_ offset: Int) -> UInt32? {
            let byte = bytes[index + offset]
            return byte & 0xC0 == 0x80 ? UInt32(byte & 0x3F) : nil
        }
        if lead < 0x80 { return 1 }
        if lead & 0xE0 == 0xC0, available >= 2, let b1 = trail(1) {
            return (UInt32(lead & 0x1F) << 6 | b1) >= 0x80 ? 2 : nil
        }
        if lead & 0xF0 == 0xE0, available >= 3, let b1 = trail(1), let b2 = trail(2) {
            let scalar = UInt32(lead & 0x0F) << 12 | b1 << 6 | b2
            return scalar >= 0x800 && (scalar < 0xD800 || scalar >= 0xE000) ? 3 : nil
        }
        if lead & 0xF8 == 0xF0, available >= 4, let b1 = trail(1), let b2 = trail(2), let b3 = trail(3) {
            let scalar = UInt32(lead & 0x07) << 18 | b1 << 12 | b2 << 6 | b3
            return scalar >= 0x10000 && scalar <= 0x10FFFF ? 4 : nil
        }
        return nil
    }

    /// `bytes` with every invalid byte replaced by U+FFFD.
    static func repaired(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if let length = validLength(bytes, at: index) {
                result.append(contentsOf: bytes[index..<(index + length)])
                index += length
            } else {
                result.append(contentsOf: replacement)
                index += 1
            }
        }
        return result
    }
}
