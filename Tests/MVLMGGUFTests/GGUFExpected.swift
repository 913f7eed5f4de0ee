import Foundation
import MVLMCore
import MVLMTestSupport

/// `Tests/Fixtures/gguf/expected.json`, written by `gen_gguf.py` from gguf-py.
enum GGUFExpected {
    static var root: [String: Any] {
        let url = URL(fileURLWithPath: Fixtures.path("gguf/expected.json"))
        guard let data = try? Data(contentsOf: url),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }

    static var files: [String: [String: Any]] {
        root["files"] as? [String: [String: Any]] ?? [:]
    }

    static var hostile: [String: [String: Any]] {
        root["hostile"] as? [String: [String: Any]] ?? [:]
    }

    static func path(_ name: String) -> String { Fixtures.path("gguf/\(name)") }

    /// Decodes a typed value as gen_gguf.py encodes it (integers and floats as strings).
    static func metadataValue(type: String, json: Any?) -> MetadataValue? {
        switch type {
        case "UINT8", "UINT16", "UINT32", "UINT64":
            return (json as? String).flatMap(UInt64.init).map { .uint($0) }
        case "INT8", "INT16", "INT32", "INT64":
            return (json as? String).flatMap(Int64.init).map { .int($0) }
        case "FLOAT32", "FLOAT64":
            return (json as? String).flatMap(Double.init).map { .float($0) }
        case "BOOL":
            return (json as? Bool).map { .bool($0) }
        case "STRING":
            return (json as? String).map { .string($0) }
        case "ARRAY":
            guard let object = json as? [String: Any], let elementType = object["elementType"] as? String,
                let items = object["values"] as? [Any]
            else { return nil }
            var values: [MetadataValue] = []
            for item in items {
                guard let value = metadataValue(type: elementType, json: item) else { return nil }
                values.append(value)
            }
            return .array(values, elementType: elementType)
        default:
            return nil
        }
    }

    /// Structural equality where floats compare by bit pattern (so -0.0 differs from 0.0) and
    /// any NaN equals any NaN.
    static func same(_ a: MetadataValue, _ b: MetadataValue) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)):
            return (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
        case (.array(let xs, let xType), .array(let ys, let yType)):
            return xType == yType && xs.count == ys.count && zip(xs, ys).allSatisfy { same($0, $1) }
        default:
            return a == b
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(hex.utf8.count / 2)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            result.append(UInt8(nibble(high) << 4 | nibble(low)))
        }
        return result
    }

    private static func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: 0
        }
    }
}
