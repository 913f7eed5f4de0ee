/// Builds protocol-2 pickle bytes the way torch.save lays out a state dict.
struct PickleEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func protocol2() { bytes += [0x80, 2] }
    mutating func stop() { bytes.append(0x2E) }
    mutating func mark() { bytes.append(0x28) }
    mutating func emptyTuple() { bytes.append(0x29) }
    mutating func reduce() { bytes.append(0x52) }
    mutating func setItems() { bytes.append(0x75) }
    /// TUPLE: the items since the last mark.
    mutating func tuple() { bytes.append(0x74) }
    mutating func persistentID() { bytes.append(0x51) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 0x88 : 0x89) }

    /// GLOBAL `module\nname\n`.
    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array(module.utf8) + [0x0A] + Array(name.utf8) + [0x0A]
    }

    /// BINUNICODE.
    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(0x58)
        appendLittleEndian(UInt32(utf8.count))
        bytes += utf8
    }

    /// The smallest of BININT1, BININT2, BININT, LONG1 that holds `value`.
    mutating func int(_ value: Int) {
        if (0...0xFF).contains(value) {
            bytes += [0x4B, UInt8(value)]
        } else if (0...0xFFFF).contains(value) {
            bytes.append(0x4D)
            appendLittleEndian(UInt16(value))
        } else if (Int(Int32.min)...Int(Int32.max)).contains(value) {
            bytes.append(0x4A)
            appendLittleEndian(UInt32(bitPattern: Int32(value)))
        } else {
            // LONG1: minimal little-endian two's complement.
            var encoded: [UInt8] = []
            var remaining = value
            repeat {
                encoded.append(UInt8(truncatingIfNeeded: remaining))
                remaining >>= 8
            } while !(remaining == 0 && encoded.last! & 0x80 == 0)
                && !(remaining == -1 && encoded.last! & 0x80 != 0)
            bytes += [0x8A, UInt8(encoded.count)] + encoded
        }
    }

    /// A tuple of ints (sizes and strides).
    mutating func intTuple(_ values: [Int]) {
        if values.isEmpty { return emptyTuple() }
        if values.count > 3 { mark() }
        for value in values { int(value) }
        switch values.count {
        case 1: bytes.append(0x85)
        case 2: bytes.append(0x86)
        case 3: bytes.append(0x87)
        default: bytes.append(0x74)
        }
    }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
