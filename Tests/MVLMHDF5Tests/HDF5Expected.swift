import Foundation
import MVLMCore
import MVLMTestSupport

/// Tests/Fixtures/hdf5/expected.json, written by Tests/Fixtures/gen_hdf5.py from keras/h5py/numpy.
struct HDF5Expected: Sendable {
    struct TensorFacts: Sendable {
        var name: String
        var dtype: String
        var shape: [Int]
        /// Flattened values as Python printed them: repr of the float64 value, or the exact
        /// integer.
        var values: [String]?
    }

    struct GoodFile: Sendable {
        var layout: String
        var tensors: [TensorFacts]
        /// Metadata keys with the expected value: strings as is, anything else as `summary()`.
        var metadata: [String: String]
        var zeroCopy: [String]
        var copied: [String]
    }

    struct HostileFile: Sendable {
        /// `init` or `tensor:<name>`.
        var fails: String
        /// An `MVLMError.Code` raw value, or `any`.
        var code: String
        var also: String?
        var listed: [String]?
    }

    var good: [String: GoodFile] = [:]
    var hostile: [String: HostileFile] = [:]

    static let shared: HDF5Expected = {
        do { return try HDF5Expected(path: Fixtures.path("hdf5/expected.json")) } catch {
            fatalError("cannot load hdf5/expected.json: \(error)")
        }
    }()

    init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw MVLMError(.malformed, "expected.json is not an object", file: path)
        }
        for (name, value) in root {
            guard let object = value as? [String: Any] else { continue }
            if name == "hostile" {
                for (file, facts) in object {
                    guard let facts = facts as? [String: Any] else { continue }
                    hostile[file] = HostileFile(
                        fails: facts["fails"] as? String ?? "",
                        code: facts["code"] as? String ?? "",
                        also: facts["also"] as? String, listed: facts["listed"] as? [String])
                }
                continue
            }
            let tensors = (object["tensors"] as? [[String: Any]] ?? []).map { tensor in
                TensorFacts(
                    name: tensor["name"] as? String ?? "", dtype: tensor["dtype"] as? String ?? "",
                    shape: (tensor["shape"] as? [NSNumber] ?? []).map(\.intValue),
                    values: tensor["values"] as? [String])
            }
            good[name] = GoodFile(
                layout: object["layout"] as? String ?? "", tensors: tensors,
                metadata: object["metadata"] as? [String: String] ?? [:],
                zeroCopy: object["zero_copy"] as? [String] ?? [],
                copied: object["copied"] as? [String] ?? [])
        }
    }
}

/// Compares a tensor's elements with values Python printed, exactly (floats bit for bit after
/// widening to Double, NaN matching NaN; integers as integers). Returns a description of the first
/// difference, or nil.
func firstDifference(_ tensor: Tensor, _ expected: [String]) -> String? {
    guard tensor.elementCount == expected.count else {
        return "element count \(tensor.elementCount) != \(expected.count)"
    }
    return tensor.withUnsafeBytes { bytes -> String? in
        for (index, text) in expected.enumerated() {
            let same: Bool
            let got: String
            switch tensor.dtype {
            case .float16, .bfloat16, .float32, .float64:
                let value: Double
                switch tensor.dtype {
                case .float16:
                    value = Double(
                        HalfPrecision.float(
                            fromFloat16Bits: bytes.loadUnaligned(
                                fromByteOffset: index * 2, as: UInt16.self)))
                case .bfloat16:
                    value = Double(
                        HalfPrecision.float(
                            fromBFloat16Bits: bytes.loadUnaligned(
                                fromByteOffset: index * 2, as: UInt16.self)))
                case .float32:
                    value = Double(bytes.loadUnaligned(fromByteOffset: index * 4, as: Float.self))
                default:
                    value = bytes.loadUnaligned(fromByteOffset: index * 8, as: Double.self)
                }
                guard let want = Double(text) else { return "unparsable \(text)" }
                same = want.isNaN ? value.isNaN : value.bitPattern == want.bitPattern
                got = "\(value)"
            case .int8, .int16, .int32, .int64:
                let size = tensor.dtype.scalarByteSize!
                var value: Int64 = 0
                switch size {
                case 1: value = Int64(bytes.loadUnaligned(fromByteOffset: index, as: Int8.self))
                case 2:
                    value = Int64(bytes.loadUnaligned(fromByteOffset: index * 2, as: Int16.self))
                case 4:
                    value = Int64(bytes.loadUnaligned(fromByteOffset: index * 4, as: Int32.self))
                default: value = bytes.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)
                }
                same = Int64(text) == value
                got = "\(value)"
            case .uint8, .uint16, .uint32, .uint64, .bool:
                let size = tensor.dtype.scalarByteSize!
                var value: UInt64 = 0
                switch size {
                case 1: value = UInt64(bytes.loadUnaligned(fromByteOffset: index, as: UInt8.self))
                case 2:
                    value = UInt64(bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                case 4:
                    value = UInt64(bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
                default: value = bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
                }
                same = UInt64(text) == value
                got = "\(value)"
            default:
                return "unexpected dtype \(tensor.dtype)"
            }
            if !same { return "element \(index): got \(got), expected \(text)" }
        }
        return nil
    }
}

/// Runs `body` with file descriptor 2 redirected to a temporary file and returns what was
/// written to it (to prove libhdf5 prints nothing). The captured text is written back to the real
/// stderr afterwards, so output of tests running in parallel is delayed, not lost.
func capturingStandardError(_ body: () throws -> Void) rethrows -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("mvlm-hdf5-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: url) }
    fflush(nil)
    let saved = dup(2)
    let capture = open(url.path, O_WRONLY)
    dup2(capture, 2)
    close(capture)
    var restored = false
    func restore() {
        guard !restored else { return }
        restored = true
        fflush(nil)
        dup2(saved, 2)
        close(saved)
    }
    defer { restore() }
    try body()
    restore()
    let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    if !text.isEmpty { FileHandle.standardError.write(Data(text.utf8)) }
    return text
}
