import MVLMCore
import MVLMFileIO

/// NumPy `.npy` files: float32 arrays written and read, integer arrays (token ids) read; C order.
///
/// Layout: the magic `\x93NUMPY`, version bytes `1 0`, a little-endian `UInt16` header length,
/// then an ASCII Python dict (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`)
/// padded with spaces and ending in `\n` so the data starts at a multiple of 64 bytes, then the
/// values.
public enum NumPyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The header bytes for a float32 array of `shape` (its length is a multiple of 64).
    public static func float32Header(shape: [Int]) -> [UInt8] { header(descr: "<f4", shape: shape) }

    /// The NumPy `descr` for a scalar dtype (`<f4`, `<f2`, `|b1`, ...); bf16, which NumPy lacks, is
    /// its raw 16-bit pattern (`<u2`); `nil` for block types.
    public static func descr(for dtype: DType) -> String? {
        switch dtype {
        case .float64: "<f8"
        case .float32: "<f4"
        case .float16: "<f2"
        case .bfloat16: "<u2"
        case .int64: "<i8"
        case .int32: "<i4"
        case .int16: "<i2"
        case .int8: "|i1"
        case .uint64: "<u8"
        case .uint32: "<u4"
        case .uint16: "<u2"
        case .uint8, .float8E4M3, .float8E5M2: "|u1"
        case .bool: "|b1"
        case .block: nil
        }
    }

    /// Writes raw little-endian element bytes as an array of `descr` and `shape`, atomically.
    public static func write(bytes: UnsafeRawBufferPointer, descr: String, shape: [Int], to path: String) throws {
        let writer = try AtomicFileWriter(destination: path)
        try writer.write(header(descr: descr, shape: shape))
        try writer.write(bytes)
        try writer.commit()
    }

    /// The header bytes for an array of `descr` and `shape` (its length is a multiple of 64).
    public static func header(descr: String, shape: [Int]) -> [UInt8] {
        let dimensions = shape.map(String.init).joined(separator: ", ")
        let tuple = shape.count == 1 ? "(\(dimensions),)" : "(\(dimensions))"
        var dictionary = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }"
        let unpadded = magic.count + 2 + 2 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(dictionary.utf8.count)
        return magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(dictionary.utf8)
    }

    /// Writes `values` as a float32 array of `shape`, atomically (`AtomicFileWriter`).
    /// - Throws: `MVLMError` (`.invalidArgument`) when the shape does not hold `values.count`
    ///   elements or the header would exceed 65535 bytes; `.io` when writing fails.
    public static func writeFloat32(_ values: [Float], shape: [Int], to path: String) throws {
        guard let count = Shape.elementCount(shape), count == values.count else {
            throw MVLMError(.invalidArgument, "shape \(Shape.describe(shape)) does not hold \(values.count) values", file: path)
        }
        let header = float32Header(shape: shape)
        guard header.count <= 65535 + 10 else {
            throw MVLMError(.invalidArgument, "shape \(Shape.describe(shape)) is too long for a version 1.0 header", file: path)
        }
        let writer = try AtomicFileWriter(destination: path)
        try writer.write(header)
        var littleEndian = values
        for index in littleEndian.indices {
            littleEndian[index] = Float(bitPattern: littleEndian[index].bitPattern.littleEndian)
        }
        try littleEndian.withUnsafeBytes { try writer.write($0) }
        try writer.commit()
    }

    /// Reads a float32 `.npy` file (version 1.x/2.x/3.x, `'<f4'`, C order).
    /// - Returns: the shape and the values.
    /// - Throws: `MVLMError` naming the file for any other dtype, Fortran order, a malformed
    ///   header, or data shorter or longer than the shape needs.
    public static func readFloat32(path: String) throws -> (shape: [Int], values: [Float]) {
        let array = try readArray(path: path, descrs: ["<f4": 4])
        let values = array.data.withUnsafeBytes { bytes in
            (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return (array.shape, values)
    }

    /// Reads an integer `.npy` file (`<i8 <i4 <i2 |i1 <u8 <u4 <u2 |u1`, C order), e.g. token ids.
    /// - Returns: the shape and the values widened to `Int64` (a `u8` value above `Int64.max` is an
    ///   error).
    /// - Throws: `MVLMError` naming the file for a float or other dtype, Fortran order, a malformed
    ///   header, or data shorter or longer than the shape needs.
    public static func readIntegers(path: String) throws -> (shape: [Int], values: [Int64]) {
        let sizes = ["<i8": 8, "<i4": 4, "<i2": 2, "|i1": 1, "<u8": 8, "<u4": 4, "<u2": 2, "|u1": 1]
        let array = try readArray(path: path, descrs: sizes)
        let size = sizes[array.descr]!
        let signed = !array.descr.contains("u")
        var values: [Int64] = []
        values.reserveCapacity(array.data.count / size)
        try array.data.withUnsafeBytes { bytes in
            for index in 0..<(bytes.count / size) {
                var raw: UInt64 = 0
                for byte in 0..<size { raw |= UInt64(bytes[index * size + byte]) << (8 * UInt64(byte)) }
                if signed {
                    let shift = UInt64(64 - 8 * size)
                    values.append(Int64(bitPattern: raw << shift) >> Int64(shift))
                } else {
                    guard raw <= UInt64(Int64.max) else {
                        throw MVLMError(.outOfBounds, "element \(index) (\(raw)) does not fit a signed 64-bit integer", file: path)
                    }
                    values.append(Int64(raw))
                }
            }
        }
        return (array.shape, values)
    }

    /// The header fields and data bytes of an `.npy` file whose dtype is one of `descrs` (with its
    /// element size), checked against the shape.
    static func readArray(path: String, descrs: [String: Int]) throws -> (descr: String, shape: [Int], data: [UInt8]) {
        let file = try MappedFile(path: path)
        return try file.withUnsafeBytes { bytes in
            func fail(_ code: MVLMError.Code, _ message: String) -> MVLMError {
                MVLMError(code, message, file: path)
            }
            guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
                throw fail(.malformed, "not a NumPy file (bad magic)")
            }
            let major = bytes[6]
            let headerLength: Int
            let headerStart: Int
            switch major {
            case 1:
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
                headerStart = 10
            case 2, 3:
                guard bytes.count >= 12 else { throw fail(.truncated, "header length cut off") }
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
                headerStart = 12
            default:
                throw fail(.unsupported, "format version \(major) is not supported")
            }
            guard headerLength <= bytes.count - headerStart else {
                throw fail(.truncated, "header of \(headerLength) bytes runs past the end of the file")
            }
            let dataStart = headerStart + headerLength
            let header = String(decoding: bytes[headerStart..<dataStart], as: UTF8.self)
            guard let descr = descrs.keys.sorted().first(where: { header.contains("'descr': '\($0)'") }) else {
                throw fail(.unsupported, "dtype is not one of \(descrs.keys.sorted().joined(separator: " ")) (header: \(header.trimmingCharacters()))")
            }
            guard header.contains("'fortran_order': False") else {
                throw fail(.unsupported, "Fortran order is not supported")
            }
            guard let open = header.firstRange(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
                throw fail(.malformed, "header has no shape tuple")
            }
            var shape: [Int] = []
            for part in header[open.upperBound..<close].split(separator: ",") {
                let text = part.trimmingCharacters()
                if text.isEmpty { continue }
                guard let size = Int(text), size >= 0 else { throw fail(.malformed, "bad shape entry '\(text)'") }
                shape.append(size)
            }
            let (byteCount, overflow) = (Shape.elementCount(shape) ?? Int.max).multipliedReportingOverflow(by: descrs[descr]!)
            guard Shape.elementCount(shape) != nil, !overflow else {
                throw fail(.outOfBounds, "shape \(Shape.describe(shape)) overflows")
            }
            guard bytes.count - dataStart == byteCount else {
                throw fail(.truncated, "shape \(Shape.describe(shape)) needs \(byteCount) data bytes, the file has \(bytes.count - dataStart)")
            }
            return (descr, shape, Array(bytes[dataStart...]))
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
