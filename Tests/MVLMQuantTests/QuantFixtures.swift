import Foundation
import MVLMCore
import MVLMTestSupport

/// The committed outputs of `Tests/Fixtures/gen_quant.py`.
enum QuantFixtures {
    static let columns = 256

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("quant/\(name)"))))
    }

    static func floats(_ name: String) throws -> [Float] {
        let data = try bytes(name)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The rows of `rows.f32` with their names from `manifest.json`.
    static func rows() throws -> [(name: String, values: [Float])] {
        let all = try floats("rows.f32")
        let manifest = try loadExpectedJSON("quant/manifest.json")
        let names = manifest["rows"] as? [String] ?? []
        return names.enumerated().map { index, name in
            (name, Array(all[(index * columns)..<((index + 1) * columns)]))
        }
    }
}

/// Bitwise comparison of float arrays (distinguishes -0 from +0).
func bitwiseEqual(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}

/// The first index where two arrays differ, for messages.
func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> Int? {
    if a.count != b.count { return min(a.count, b.count) }
    return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset
}
