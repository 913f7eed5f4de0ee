import MVLMCore

/// Typed access to config.json fields with errors that name the field.
struct ConfigFields {
    let values: [String: MetadataValue]
    let file = "config.json"

    private func fail(_ key: String, _ message: String, _ code: MVLMError.Code = .malformed) -> MVLMError {
        MVLMError(code, message, file: file, subject: "'\(key)'")
    }

    func has(_ key: String) -> Bool {
        if let value = values[key], value != .null { return true }
        return false
    }

    /// A required positive integer.
    func positiveInt(_ key: String) throws -> Int {
        guard let value = values[key], value != .null else { throw fail(key, "is missing", .notFound) }
        guard let int = value.intValue, int > 0 else {
            throw fail(key, "is \(value.summary()), expected a positive integer")
        }
        guard int <= 1 << 24 else { throw fail(key, "is \(int), which is implausibly large (limit \(1 << 24))") }
        return int
    }

    /// An optional positive integer.
    func positiveInt(_ key: String, default defaultValue: Int) throws -> Int {
        has(key) ? try positiveInt(key) : defaultValue
    }

    /// An optional number.
    func number(_ key: String, default defaultValue: Double) throws -> Double {
        try number(key, in: values, default: defaultValue)
    }

    func number(_ key: String, in object: [String: MetadataValue], default defaultValue: Double?) throws -> Double {
        guard let value = object[key], value != .null else {
            guard let defaultValue else { throw fail(key, "is missing", .notFound) }
            return defaultValue
        }
        guard let number = value.doubleValue, number.isFinite else {
            throw fail(key, "is \(value.summary()), expected a number")
        }
        return number
    }

    /// An optional boolean.
    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let value = values[key], value != .null else { return defaultValue }
        guard case .bool(let flag) = value else { throw fail(key, "is \(value.summary()), expected true or false") }
        return flag
    }

    /// An optional string.
    func string(_ key: String) throws -> String? {
        guard let value = values[key], value != .null else { return nil }
        guard let string = value.stringValue else { throw fail(key, "is \(value.summary()), expected a string") }
        return string
    }

    /// An optional object.
    func object(_ key: String) throws -> [String: MetadataValue]? {
        guard let value = values[key], value != .null else { return nil }
        guard case .object(let members) = value else { throw fail(key, "is \(value.summary()), expected an object") }
        return members
    }

    /// `architectures` as strings.
    var architectures: [String] {
        values["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
