import Foundation
import MVLMCompression
import MVLMTestSupport

/// A tiny `.npy` reader for the fixtures (uint8 and little-endian float32, C order), independent
/// of the code under test (MVLMModels' NumPyFile is not a dependency of MVLMImage).
struct NumPyArray {
    enum Values {
        case uint8([UInt8])
        case float32([Float])
    }

    var shape: [Int]
    var values: Values

    var bytes: [UInt8]? { if case .uint8(let bytes) = values { bytes } else { nil } }
    var floats: [Float]? { if case .float32(let floats) = values { floats } else { nil } }

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads `Tests/Fixtures/image/<relative>`; `.deflate` files are raw-deflated `.npy` files of
    /// `npyBytes` bytes.
    static func fixture(_ relative: String, npyBytes: Int? = nil) throws -> NumPyArray {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("image/" + relative)))
        if relative.hasSuffix(".deflate") {
            guard let npyBytes else { throw FormatError(description: "\(relative): size of the deflated .npy unknown") }
            let plain = try data.withUnsafeBytes { try Inflate.raw($0, expectedSize: npyBytes) }
            return try parse(plain, name: relative)
        }
        return try parse([UInt8](data), name: relative)
    }

    static func parse(_ file: [UInt8], name: String) throws -> NumPyArray {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard file.count >= 10, Array(file[0..<6]) == magic else { throw FormatError(description: "\(name): not a .npy file") }
        let major = file[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(file[8]) | Int(file[9]) << 8
            headerStart = 10
        } else {
            headerLength = Int(file[8]) | Int(file[9]) << 8 | Int(file[10]) << 16 | Int(file[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLength <= file.count else { throw FormatError(description: "\(name): header past the end") }
        let header = String(decoding: file[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard header.contains("'fortran_order': False") else { throw FormatError(description: "\(name): not C order") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw FormatError(description: "\(name): no shape in \(header)")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let body = Array(file[(headerStart + headerLength)...])
        if header.contains("'descr': '|u1'") {
            guard body.count == count else { throw FormatError(description: "\(name): \(body.count) bytes for shape \(shape)") }
            return NumPyArray(shape: shape, values: .uint8(body))
        }
        if header.contains("'descr': '<f4'") {
            guard body.count == count * 4 else { throw FormatError(description: "\(name): \(body.count) bytes for shape \(shape)") }
            var floats = [Float](repeating: 0, count: count)
            for index in 0..<count {
                let bits = UInt32(body[index * 4]) | UInt32(body[index * 4 + 1]) << 8
                    | UInt32(body[index * 4 + 2]) << 16 | UInt32(body[index * 4 + 3]) << 24
                floats[index] = Float(bitPattern: bits)
            }
            return NumPyArray(shape: shape, values: .float32(floats))
        }
        throw FormatError(description: "\(name): unsupported dtype in \(header)")
    }
}
