import CMVLMHDF5
import MVLMCore

/// The tensor table of an open file: detects the layout, lists the datasets, collects metadata.
///
/// Built once by `HDF5Reader.init` inside `HDF5Library.withLock`; reads metadata only (links,
/// attributes, datatypes, dataspaces, storage layout), never tensor data.
struct HDF5Catalog {
    var layout: HDF5Layout = .generic
    var entries: [HDF5Entry] = []
    /// Datasets of a generic file that cannot be read as tensors, with the reason;
    /// `tensor(named:)` throws these. Keras layouts throw at init instead.
    var refused: [String: MVLMError] = [:]
    var metadata: [String: MetadataValue] = [:]
    let context: HDF5ErrorContext
    /// Tensor names already listed (to keep them unique).
    var listedNames: Set<String> = []

    /// Groups nested deeper than this are refused (a hostile file could nest without end).
    static let maximumDepth = 64
    /// At most this many links are visited.
    static let maximumLinks = 1 << 22

    /// Lists the file. Call inside `HDF5Library.withLock`.
    init(file: HDF5Handle, context: HDF5ErrorContext) throws {
        self.context = context
        let root = try openObject(
            file.id, "/", .malformed, "cannot open the root group", subject: nil)
        metadata = try attributes(of: root.id, subject: nil)
        if try hasNameList(root.id, "layer_names", subject: nil) {
            try listKerasLegacy(root: root, weights: root, location: [])
        } else if let wrapper = try openGroupIfPresent(root.id, "model_weights", subject: nil),
            try hasNameList(wrapper.id, "layer_names", subject: "model_weights")
        {
            for (key, value) in try attributes(of: wrapper.id, subject: "model_weights")
            where key != "layer_names" && metadata[key] != value {
                metadata["model_weights/\(key)"] = value
            }
            try listKerasLegacy(root: root, weights: wrapper, location: ["model_weights"])
        } else {
            try listByTraversal(root: root)
        }
        metadata["layout"] = .string(layout.name)
    }

    // MARK: Keras 3 and generic files

    private struct ObjectIdentity: Hashable {
        var high: UInt64
        var low: UInt64
    }

    private struct Traversal {
        var visited: Set<ObjectIdentity> = []
        var found: [(path: [String], description: Result<HDF5DatasetDescription, MVLMError>)] = []
        var sawVarsGroup = false
        var links = 0
    }

    /// Visits every hard link from the root, lists datasets by path, then decides between
    /// `.keras3` (every dataset sits in a group named `vars`) and `.generic`.
    private mutating func listByTraversal(root: HDF5Handle) throws {
        var traversal = Traversal()
        traversal.visited.insert(try identity(of: root.id, subject: nil))
        try visit(group: root.id, path: [], depth: 0, traversal: &traversal)
        let isKeras3 =
            traversal.sawVarsGroup
            && traversal.found.allSatisfy {
                $0.path.count >= 2 && $0.path[$0.path.count - 2] == "vars"
            }
        layout = isKeras3 ? .keras3 : .generic
        for (path, description) in traversal.found {
            let name = path.joined(separator: "/")
            switch description {
            case .success(let description):
                entries.append(
                    HDF5Entry(name: name, location: ["/" + name], description: description))
                listedNames.insert(name)
            case .failure(let error):
                if isKeras3 { throw error }
                refused[name] = error
            }
        }
        if isKeras3 {
            metadata["optimizer_tensor_count"] = .int(
                Int64(entries.count { $0.name.hasPrefix("optimizer/") }))
        }
        if !refused.isEmpty {
            metadata["unsupported_datasets"] = .object(refused.mapValues { .string($0.message) })
        }
    }

    private func visit(group: hid_t, path: [String], depth: Int, traversal: inout Traversal) throws
    {
        let here = path.isEmpty ? "/" : path.joined(separator: "/")
        guard depth < HDF5Catalog.maximumDepth else {
            throw context.error(
                .unsupported, "groups nest deeper than \(HDF5Catalog.maximumDepth) levels",
                subject: here)
        }
        for link in try links(of: group, subject: here) where link.isHard {
            traversal.links += 1
            guard traversal.links <= HDF5Catalog.maximumLinks else {
                throw context.error(
                    .unsupported, "more than \(HDF5Catalog.maximumLinks) links", subject: here)
            }
            let childPath = path + [link.name]
            let subject = childPath.joined(separator: "/")
            guard link.isValidUTF8 else {
                traversal.found.append(
                    (
                        childPath,
                        .failure(
                            context.error(
                                .unsupported, "link name is not valid UTF-8", subject: subject))
                    ))
                continue
            }
            let object = try openObject(
                group, link.name, .malformed, "cannot open", subject: subject)
            guard traversal.visited.insert(try identity(of: object.id, subject: subject)).inserted
            else {
                continue  // a second hard link to an object already listed
            }
            switch H5Iget_type(object.id) {
            case H5I_GROUP:
                if link.name == "vars" { traversal.sawVarsGroup = true }
                try visit(
                    group: object.id, path: childPath, depth: depth + 1, traversal: &traversal)
            case H5I_DATASET:
                do {
                    let description = try HDF5DatasetDescription(
                        dataset: object.id, context: context, subject: subject)
                    traversal.found.append((childPath, .success(description)))
                } catch let error as MVLMError {
                    traversal.found.append((childPath, .failure(error)))
                }
            default:
                continue  // committed datatypes hold no data
            }
        }
    }

    /// The links of a group in listing order: creation order when the group records it;
    /// otherwise name order, with all-digit names (Keras `vars/0`, `vars/1`, ..., `vars/10`)
    /// ordered numerically and before other names.
    private func links(
        of group: hid_t, subject: String
    ) throws -> [(name: String, isHard: Bool, isValidUTF8: Bool)] {
        final class Collector {
            var links: [(name: String, isHard: Bool, isValidUTF8: Bool)] = []
        }
        let tracksOrder = cmvlm_h5_group_tracks_creation_order(group)
        if tracksOrder < 0 { HDF5Library.clearErrors() }
        let collector = Collector()
        let status = withExtendedLifetime(collector) {
            cmvlm_h5_iterate_links(
                group, tracksOrder == 1 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME,
                { name, isHard, context in
                    guard let name, let context else { return 1 }
                    let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                    let valid = String(validatingCString: name)
                    collector.links.append(
                        (valid ?? String(cString: name), isHard != 0, valid != nil))
                    return 0
                }, Unmanaged.passUnretained(collector).toOpaque())
        }
        try context.check(status, .malformed, "cannot list the group's links", subject: subject)
        if tracksOrder == 1 { return collector.links }
        return collector.links.sorted { HDF5Catalog.listsBefore($0.name, $1.name) }
    }

    /// Name order with all-digit names first and compared as numbers.
    static func listsBefore(_ a: String, _ b: String) -> Bool {
        let aDigits = isAllDigits(a)
        let bDigits = isAllDigits(b)
        if aDigits != bDigits { return aDigits }
        if aDigits {
            let aValue = a.utf8.drop { $0 == UInt8(ascii: "0") }
            let bValue = b.utf8.drop { $0 == UInt8(ascii: "0") }
            if aValue.count != bValue.count { return aValue.count < bValue.count }
            if !aValue.elementsEqual(bValue) { return aValue.lexicographicallyPrecedes(bValue) }
        }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func isAllDigits(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    // MARK: Helpers shared by the layouts

    /// Opens the object at `path` relative to `parent` (external links refused).
    func openObject(
        _ parent: hid_t, _ path: String, _ code: MVLMError.Code,
        _ message: @autoclosure () -> String,
        subject: String?
    ) throws -> HDF5Handle {
        try context.openObject(parent, path, code, message(), subject: subject)
    }

    /// The group linked as `name` from `parent`, or nil when there is no such link or it is not
    /// a group.
    func openGroupIfPresent(_ parent: hid_t, _ name: String, subject: String?) throws -> HDF5Handle?
    {
        let exists = H5Lexists(parent, name, try HDF5Library.linkAccess())
        guard exists >= 0 else {
            throw context.failure(.malformed, "cannot look up '\(name)'", subject: subject)
        }
        guard exists > 0 else { return nil }
        let object = try openObject(
            parent, name, .malformed, "cannot open '\(name)'", subject: subject)
        return H5Iget_type(object.id) == H5I_GROUP ? object : nil
    }

    /// True when the object has the Keras name-list attribute `name` (whole or split in parts).
    func hasNameList(_ object: hid_t, _ name: String, subject: String?) throws -> Bool {
        try HDF5AttributeReader.exists(on: object, named: name, context: context, subject: subject)
            || HDF5AttributeReader.exists(
                on: object, named: name + "0", context: context, subject: subject)
    }

    /// Every readable attribute of an object, by name. Metadata is informative, so attributes
    /// that cannot be read (unsupported class, oversized) are left out rather than failing.
    func attributes(of object: hid_t, subject: String?) throws -> [String: MetadataValue] {
        var values: [String: MetadataValue] = [:]
        for name in try HDF5AttributeReader.names(of: object, context: context, subject: subject) {
            if let value = try? HDF5AttributeReader.value(
                of: object, named: name, context: context, subject: subject)
            {
                values[name] = value
            }
        }
        return values
    }

    private func identity(of object: hid_t, subject: String?) throws -> ObjectIdentity {
        var words: (UInt64, UInt64) = (0, 0)
        let status = withUnsafeMutableBytes(of: &words) { raw in
            cmvlm_h5_object_identity(object, raw.baseAddress!.assumingMemoryBound(to: UInt64.self))
        }
        try context.check(status, .malformed, "cannot read the object's identity", subject: subject)
        return ObjectIdentity(high: words.0, low: words.1)
    }
}
