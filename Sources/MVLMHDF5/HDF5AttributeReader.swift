import CMVLMHDF5
import MVLMCore

/// Reads HDF5 attributes as `MetadataValue`s. Every function must be called inside
/// `HDF5Library.withLock`.
///
/// Strings (fixed-length, as numpy 'S' arrays are stored, or variable-length, as Python `str`
/// is), integers, floats and h5py booleans are read; scalars become single values, arrays of
/// any rank become flat `.array`s. Attributes of other classes read as `nil`.
enum HDF5AttributeReader {
    /// Attributes larger than this are not read (HDF5 keeps attributes small; Keras splits
    /// anything over 64 KB into numbered parts).
    static let maximumElements = 1 << 20
    static let maximumBytes = 64 << 20

    /// The names of `object`'s attributes, in name order.
    static func names(of object: hid_t, context: HDF5ErrorContext, subject: String?) throws
        -> [String]
    {
        final class Collector { var names: [String] = [] }
        let collector = Collector()
        let status = withExtendedLifetime(collector) {
            cmvlm_h5_iterate_attributes(
                object,
                { name, context in
                    guard let name, let context else { return 1 }
                    let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                    collector.names.append(String(cString: name))
                    return 0
                }, Unmanaged.passUnretained(collector).toOpaque())
        }
        try context.check(status, .malformed, "cannot list attributes", subject: subject)
        return collector.names
    }

    /// True when `object` has an attribute called `name`.
    static func exists(
        on object: hid_t, named name: String, context: HDF5ErrorContext, subject: String?
    ) throws -> Bool {
        let found = H5Aexists(object, name)
        guard found >= 0 else {
            throw context.failure(
                .malformed, "cannot look up attribute '\(name)'", subject: subject)
        }
        return found > 0
    }

    /// The attribute's value, or `nil` when it does not exist or its type is not readable here.
    static func value(
        of object: hid_t, named name: String, context: HDF5ErrorContext, subject: String?
    ) throws -> MetadataValue? {
        guard try exists(on: object, named: name, context: context, subject: subject) else {
            return nil
        }
        let what = subject.map { "\($0): attribute '\(name)'" } ?? "attribute '\(name)'"
        let attribute = try context.handle(
            H5Aopen(object, name, cmvlm_h5p_default()), .attribute, .malformed, "cannot open",
            subject: what)
        let type = try context.handle(
            H5Aget_type(attribute.id), .datatype, .malformed, "cannot read the datatype",
            subject: what)
        let space = try context.handle(
            H5Aget_space(attribute.id), .dataspace, .malformed, "cannot read the dataspace",
            subject: what)
        let count: Int
        let isScalar: Bool
        switch H5Sget_simple_extent_type(space.id) {
        case H5S_NULL:
            return .null
        case H5S_SCALAR:
            count = 1
            isScalar = true
        case H5S_SIMPLE:
            let points = H5Sget_simple_extent_npoints(space.id)
            guard points >= 0, points <= maximumElements else {
                throw context.failure(
                    .outOfBounds, "has \(points) elements (at most \(maximumElements) are read)",
                    subject: what)
            }
            count = Int(points)
            isScalar = false
        default:
            throw context.failure(.malformed, "cannot read the dataspace class", subject: what)
        }
        let values: [MetadataValue]
        let elementType: String
        switch H5Tget_class(type.id) {
        case H5T_STRING:
            values = try readStrings(
                attribute.id, type: type.id, space: space.id, count: count, context: context,
                subject: what
            )
            .map { .string($0) }
            elementType = "string"
        case H5T_INTEGER:
            if H5Tget_sign(type.id) == H5T_SGN_NONE {
                values = try read(
                    attribute.id, memoryType: cmvlm_h5t_native_ullong(), count: count,
                    as: UInt64.self, context: context, subject: what
                )
                .map { .uint($0) }
                elementType = "uint64"
            } else {
                values = try read(
                    attribute.id, memoryType: cmvlm_h5t_native_llong(), count: count,
                    as: Int64.self, context: context, subject: what
                )
                .map { .int($0) }
                elementType = "int64"
            }
        case H5T_FLOAT:
            values = try read(
                attribute.id, memoryType: cmvlm_h5t_native_double(), count: count, as: Double.self,
                context: context, subject: what
            )
            .map { .float($0) }
            elementType = "float64"
        case H5T_ENUM:
            guard H5Tget_size(type.id) == 1, H5Tget_nmembers(type.id) == 2 else { return nil }
            values = try read(
                attribute.id, memoryType: type.id, count: count, as: UInt8.self, context: context,
                subject: what
            )
            .map { .bool($0 != 0) }
            elementType = "bool"
        default:
            return nil
        }
        if isScalar, let value = values.first { return value }
        return .array(values, elementType: elementType)
    }

    /// A list of names as Keras stores `layer_names` / `weight_names`: one attribute, or parts
    /// `name0`, `name1`, ... when the list was too big for one attribute. Strings may be fixed-
    /// or variable-length; an empty array of any type is an empty list. `nil` when absent.
    /// - Throws: `.malformed` when the attribute holds something other than strings.
    static func nameList(
        of object: hid_t, named name: String, context: HDF5ErrorContext, subject: String
    ) throws -> [String]? {
        var parts: [MetadataValue] = []
        if let whole = try value(of: object, named: name, context: context, subject: subject) {
            parts = [whole]
        } else {
            var index = 0
            while let part = try value(
                of: object, named: "\(name)\(index)", context: context, subject: subject)
            {
                parts.append(part)
                index += 1
            }
            if parts.isEmpty { return nil }
        }
        var names: [String] = []
        for part in parts {
            switch part {
            case .string(let single):
                names.append(single)
            case .array(let items, _):
                for item in items {
                    guard case .string(let text) = item else {
                        throw context.error(
                            .malformed,
                            "attribute '\(name)' must hold strings, found \(item.summary())",
                            subject: subject)
                    }
                    names.append(text)
                }
            case .null:
                continue
            default:
                throw context.error(
                    .malformed, "attribute '\(name)' must hold strings, found \(part.summary())",
                    subject: subject)
            }
        }
        return names
    }

    // MARK: Reading

    private static func read<T>(
        _ attribute: hid_t, memoryType: hid_t, count: Int, as _: T.Type, context: HDF5ErrorContext,
        subject: String
    ) throws -> [T] {
        guard count > 0 else { return [] }
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard H5Aread(attribute, memoryType, buffer.baseAddress) >= 0 else {
                initialized = 0
                throw context.failure(.malformed, "cannot read the value", subject: subject)
            }
            initialized = count
        }
    }

    private static func readStrings(
        _ attribute: hid_t, type: hid_t, space: hid_t, count: Int, context: HDF5ErrorContext,
        subject: String
    ) throws -> [String] {
        guard count > 0 else { return [] }
        let variable = H5Tis_variable_str(type)
        guard variable >= 0 else {
            throw context.failure(.malformed, "cannot read the string type", subject: subject)
        }
        if variable > 0 {
            let memoryType = try context.handle(
                H5Tcopy(cmvlm_h5t_c_s1()), .datatype, .malformed, "cannot make a string type",
                subject: subject)
            try context.check(
                H5Tset_size(memoryType.id, cmvlm_h5t_variable()), .malformed,
                "cannot make a string type", subject: subject)
            try context.check(
                H5Tset_cset(memoryType.id, H5Tget_cset(type)), .malformed,
                "cannot make a string type", subject: subject)
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try context.check(
                H5Aread(attribute, memoryType.id, &pointers), .malformed, "cannot read the strings",
                subject: subject)
            let strings = pointers.map { pointer in pointer.map { String(cString: $0) } ?? "" }
            if cmvlm_h5_reclaim(memoryType.id, space, &pointers) < 0 { HDF5Library.clearErrors() }
            return strings
        }
        let size = H5Tget_size(type)
        let (total, overflow) = size.multipliedReportingOverflow(by: count)
        guard size > 0, !overflow, total <= maximumBytes else {
            throw context.error(
                .outOfBounds, "\(count) strings of \(size) bytes are too large to read",
                subject: subject)
        }
        var bytes = [UInt8](repeating: 0, count: total)
        try context.check(
            H5Aread(attribute, type, &bytes), .malformed, "cannot read the strings",
            subject: subject)
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        return (0..<count).map { index in
            var element = bytes[(index * size)..<((index + 1) * size)]
            if spacePadded {
                while element.last == 0x20 { element.removeLast() }
            } else if let end = element.firstIndex(of: 0) {
                element = element[..<end]
            }
            return String(decoding: element, as: UTF8.self)
        }
    }
}
