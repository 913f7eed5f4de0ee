import Foundation
import MVLMCore

/// Parses config.json into `MetadataValue`s for tests (independent of the checkpoint module).
struct ConfigJSON: Decodable {
    let value: MetadataValue

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = .null
        } else if let flag = try? container.decode(Bool.self) {
            value = .bool(flag)
        } else if let integer = try? container.decode(Int64.self) {
            value = .int(integer)
        } else if let number = try? container.decode(Double.self) {
            value = .float(number)
        } else if let string = try? container.decode(String.self) {
            value = .string(string)
        } else if let array = try? container.decode([ConfigJSON].self) {
            value = .array(array.map(\.value), elementType: "json")
        } else {
            value = .object(try container.decode([String: ConfigJSON].self).mapValues(\.value))
        }
    }

    static func load(_ path: String) throws -> [String: MetadataValue] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode([String: ConfigJSON].self, from: data).mapValues(\.value)
    }

    static func parse(_ text: String) throws -> [String: MetadataValue] {
        try JSONDecoder().decode([String: ConfigJSON].self, from: Data(text.utf8)).mapValues(\.value)
    }
}

/// A reader that adds in-memory tensors to, or hides tensors of, another reader.
struct EditedReader<Base: TensorReader>: TensorReader {
    let base: Base
    var extra: [String: Tensor] = [:]
    var hidden: Set<String> = []

    var formatName: String { base.formatName }
    var metadata: [String: MetadataValue] { base.metadata }
    var tensorInfos: [TensorInfo] {
        base.tensorInfos.filter { !hidden.contains($0.name) }
            + extra.keys.sorted().map { name in
                let t = extra[name]!
                return TensorInfo(name: name, dtype: t.dtype, shape: t.shape, byteCount: t.byteCount, file: "memory")
            }
    }

    func tensor(named name: String) throws -> Tensor {
        if let tensor = extra[name] { return tensor }
        guard !hidden.contains(name) else { throw MVLMError(.notFound, "no such tensor", subject: name) }
        return try base.tensor(named: name)
    }
}
