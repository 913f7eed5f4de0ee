import Foundation

/// Reads an `expected.json` written by a fixture generator.
public func loadExpectedJSON(_ relativePath: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(relativePath)))
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw CocoaError(.fileReadCorruptFile)
    }
    return object
}

/// Converts a JSON array of numbers to floats (`nil` if any element is not a number).
public func jsonFloats(_ value: Any?) -> [Float]? {
    guard let array = value as? [Any] else { return nil }
    var result: [Float] = []
    for item in array {
        if let number = item as? NSNumber { result.append(number.floatValue) }
        else if let text = item as? String, let special = Float(text) { result.append(special) }
        else { return nil }
    }
    return result
}

/// Converts a JSON array of integers to `[Int]`.
public func jsonInts(_ value: Any?) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    return array.map { ($0 as? NSNumber)?.intValue ?? -1 }
}

/// True when both arrays have the same length and are elementwise equal, treating NaN == NaN and
/// comparing infinities exactly.
public func sameFloats(_ a: [Float], _ b: [Float], tolerance: Float = 0) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) {
        if x.isNaN && y.isNaN { continue }
        if x.isInfinite || y.isInfinite { if x != y { return false } else { continue } }
        if abs(x - y) > tolerance * max(1, abs(y)) { return false }
    }
    return true
}
