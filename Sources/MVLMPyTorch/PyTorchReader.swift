import MVLMCore
import MVLMFileIO

/// Reads a PyTorch checkpoint as `torch.save` writes it (`.bin`, `.pt`, `.pth`): a zip archive of
/// stored entries holding `<top>/data.pkl` (a pickled state dict) and one `<top>/data/<key>` entry
/// per storage.
///
/// The file is memory-mapped; opening it reads only the zip directory and the pickle, which a
/// restricted unpickler interprets without running code (see `Formats/pytorch.md`). Every tensor's
/// view (storage offset, size, stride) is checked against its storage entry when the file is
/// opened, and `tensor(named:)` returns a zero-copy view into the mapping. Tensors that share a
/// storage (tied weights, slices) share the mapped bytes.
///
/// Refused with a clear error: the pre-1.6 legacy format, TorchScript archives, big-endian files,
/// compressed entries, and pickles that reference any global outside what torch.save emits for a
/// state dict (`.unsafeContent`).
public struct PyTorchReader: TensorReader {
    /// Where a tensor's elements are, resolved when the file is opened.
    struct Record: Sendable {
        var dtype: DType
        var shape: [Int]
        var strides: [Int]
        /// Offset of element 0 within the storage, in bytes.
        var byteOffset: Int
        /// The storage's bytes in the file (the span its persistent id declares), or its zip
        /// entry when that entry is deflate-compressed.
        var backing: Backing
    }

    /// Where a storage's bytes are.
    enum Backing: Sendable {
        /// In the mapping, stored: a zero-copy view.
        case mapped(Range<Int>)
        /// In a deflate-compressed entry: inflated (and CRC-checked) when the tensor is asked for.
        case deflated(ZipArchive.Entry, byteCount: Int)
    }

    /// The path as given.
    public let path: String
    public var formatName: String { "pytorch" }
    public let tensorInfos: [TensorInfo]
    /// `version` and `byteorder` (and `format_version`, `storage_alignment` when present), as the
    /// archive's small entries of those names hold them.
    public let metadata: [String: MetadataValue]
    /// The archive's top folder (`archive`, or the name torch gave it after the file).
    public let archiveName: String

    private let file: MappedFile
    private let archive: ZipArchive
    /// Resolved views by name (internal for tests).
    let records: [String: Record]

    /// File format versions torch's reader accepts (`caffe2/serialize/versions.h`).
    static let supportedVersions = 1...10

    /// Opens and validates a checkpoint.
    /// - Parameter path: a `torch.save` zip checkpoint.
    /// - Throws: `MVLMError` naming `path`: `.io` when it cannot be mapped; `.truncated`,
    ///   `.malformed`, `.outOfBounds` for damaged files; `.unsupported` for legacy, TorchScript,
    ///   big-endian or compressed archives; `.unsafeContent` when the pickle references a global
    ///   that could run code.
    public init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        self.file = file
        guard file.count > 0 else {
            throw MVLMError(.truncated, "the file is empty", file: path)
        }
        let whole = file.storage(for: 0..<file.count)
        try Self.refuseLegacyFormats(whole, path: path)
        let archive = try ZipArchive(file: whole, path: path)
        self.archive = archive
        let top = try Self.findTopFolder(archive, path: path)
        self.archiveName = top

        var metadata: [String: MetadataValue] = [:]
        if let entry = archive.entry(named: "\(top)/byteorder") {
            let order = try Self.smallText(entry, archive, path: path)
            switch order {
            case "little": break
            case "big":
                throw MVLMError(
                    .unsupported,
                    "the checkpoint was saved on a big-endian machine (byteorder 'big'); re-save it with torch.save on a little-endian machine",
                    file: path)
            default:
                throw MVLMError(
                    .malformed, "byteorder is \(PyTorchText.quoted(order)), expected 'little' or 'big'", file: path)
            }
            metadata["byteorder"] = .string(order)
        }
        if let entry = archive.entry(named: "\(top)/.data/version") ?? archive.entry(named: "\(top)/version") {
            let text = try Self.smallText(entry, archive, path: path)
            guard let version = Int(text) else {
                throw MVLMError(.malformed, "version entry holds \(PyTorchText.quoted(text)), expected an integer", file: path)
            }
            guard Self.supportedVersions.contains(version) else {
                throw MVLMError(
                    .unsupported,
                    "file format version \(version) is outside the range torch reads (\(Self.supportedVersions.lowerBound)...\(Self.supportedVersions.upperBound))",
                    file: path)
            }
            metadata["version"] = .int(Int64(version))
        }
        for (entryName, key) in [(".format_version", "format_version"), (".storage_alignment", "storage_alignment")] {
            if let entry = archive.entry(named: "\(top)/\(entryName)"),
                let value = Int64(try Self.smallText(entry, archive, path: path))
            {
                metadata[key] = .int(value)
            }
        }
        self.metadata = metadata

        let pickleName = "\(top)/data.pkl"
        let pickle = try archive.contents(of: archive.entry(named: pickleName)!)
        var unpickler = RestrictedUnpickler(pickle: pickle, path: path, pickleName: pickleName)
        defer { unpickler.releaseObjects() }
        let root = try unpickler.load()
        var flattener = StateDictFlattener(path: path, pickleByteCount: pickle.count)
        try flattener.flatten(root)

        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        var storageEntries: [String: (ZipArchive.Entry, Range<Int>)] = [:]
        var infos: [TensorInfo] = []
        var records: [String: Record] = [:]
        infos.reserveCapacity(flattener.tensors.count)
        for (name, tensor) in flattener.tensors {
            do {
                let entryRange: Range<Int>
                let zipEntry: ZipArchive.Entry
                if let known = storageEntries[tensor.storage.key] {
                    (zipEntry, entryRange) = known
                } else {
                    let entryName = "\(top)/data/\(tensor.storage.key)"
                    guard let entry = archive.entry(named: entryName) else {
                        throw MVLMError(
                            .notFound,
                            "storage \(PyTorchText.quoted(tensor.storage.key)) has no zip entry \(PyTorchText.quoted(entryName))")
                    }
                    zipEntry = entry
                    // A deflate entry's logical size is its uncompressed size.
                    let range = try archive.dataRange(of: entry)
                    entryRange = entry.method == 0 ? range : range.lowerBound..<(range.lowerBound + entry.uncompressedSize)
                    storageEntries[tensor.storage.key] = (entry, entryRange)
                }
                var (record, byteCount) = try Self.resolve(tensor, entryRange: entryRange)
                if zipEntry.method != 0 {
                    record.backing = .deflated(zipEntry, byteCount: tensor.storage.byteCount)
                }
                records[name] = record
                infos.append(
                    TensorInfo(name: name, dtype: tensor.dtype, shape: tensor.shape, byteCount: byteCount, file: fileName))
            } catch var error as MVLMError {
                error.file = path
                if error.subject == nil { error.subject = "tensor \(PyTorchText.quoted(name))" }
                throw error
            }
        }
        self.tensorInfos = infos
        self.records = records
    }

    /// The tensor's elements as a view into the mapped file (no copy). Strided views (transposes,
    /// slices) keep their strides; call `contiguous()` for row-major bytes.
    /// - Throws: `MVLMError` (`.notFound`) for an unknown name.
    public func tensor(named name: String) throws -> Tensor {
        guard let record = records[name] else {
            throw MVLMError(.notFound, "no tensor of this name", file: path, subject: "tensor \(PyTorchText.quoted(name))")
        }
        do {
            let storage: TensorStorage
            switch record.backing {
            case .mapped(let range):
                storage = file.storage(for: range)
            case .deflated(let entry, let byteCount):
                let inflated = try archive.contents(of: entry)
                storage = inflated.withUnsafeBytes { TensorStorage(copying: UnsafeRawBufferPointer(rebasing: $0[0..<byteCount])) }
            }
            return try Tensor(
                storage: storage, dtype: record.dtype, shape: record.shape,
                strides: record.strides, byteOffset: record.byteOffset)
        } catch var error as MVLMError {
            error.file = path
            error.subject = "tensor \(PyTorchText.quoted(name))"
            throw error
        }
    }

    // MARK: - Validation

    /// Checks that the view lies inside its storage and the storage inside its zip entry.
    static func resolve(_ tensor: PickleTensor, entryRange: Range<Int>) throws -> (Record, byteCount: Int) {
        let dtype = tensor.dtype
        guard let elementSize = dtype.scalarByteSize else {
            throw MVLMError(.unsupported, "\(dtype.name) is not a scalar type")
        }
        let storage = tensor.storage
        guard storage.byteCount <= entryRange.count else {
            throw MVLMError(
                .outOfBounds,
                "storage \(PyTorchText.quoted(storage.key)) declares \(storage.byteCount) bytes but its data entry holds \(entryRange.count)")
        }
        guard let count = Shape.elementCount(tensor.shape), let byteCount = dtype.byteCount(elementCount: count) else {
            throw MVLMError(.outOfBounds, "shape \(Shape.describe(tensor.shape)) overflows the element count")
        }
        let storageElements = storage.byteCount / elementSize
        guard tensor.storageOffset <= storageElements else {
            throw MVLMError(
                .outOfBounds,
                "storage offset \(tensor.storageOffset) is past the end of its \(storageElements)-element storage \(PyTorchText.quoted(storage.key))")
        }
        if count > 0 {
            var last = tensor.storageOffset
            for (size, stride) in zip(tensor.shape, tensor.strides) {
                let (term, overflow1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflow2) = last.addingReportingOverflow(term)
                guard !overflow1, !overflow2 else {
                    throw MVLMError(.outOfBounds, "size \(Shape.describe(tensor.shape)) with stride \(Shape.describe(tensor.strides)) overflows")
                }
                last = sum
            }
            guard last < storageElements else {
                throw MVLMError(
                    .outOfBounds,
                    "view (offset \(tensor.storageOffset), size \(Shape.describe(tensor.shape)), stride \(Shape.describe(tensor.strides))) reaches element \(last) of a \(storageElements)-element storage \(PyTorchText.quoted(storage.key))")
            }
            // A broadcast (stride-0) or overlapping view is materialized by contiguous(): bound it.
            guard byteCount <= storage.byteCount + Tensor.viewExpansionAllowance else {
                throw MVLMError(
                    .outOfBounds,
                    "view of size \(Shape.describe(tensor.shape)), stride \(Shape.describe(tensor.strides)) describes \(byteCount) bytes over a \(storage.byteCount)-byte storage \(PyTorchText.quoted(storage.key)) (a repeating view may exceed its storage by at most \(Tensor.viewExpansionAllowance >> 20) MiB)")
            }
        }
        let record = Record(
            dtype: dtype, shape: tensor.shape, strides: tensor.strides,
            byteOffset: tensor.storageOffset * elementSize,
            backing: .mapped(entryRange.lowerBound..<(entryRange.lowerBound + storage.byteCount)))
        return (record, byteCount)
    }

    /// Recognizes files that are PyTorch checkpoints but not zip archives.
    private static func refuseLegacyFormats(_ file: TensorStorage, path: String) throws {
        let legacy = file.withUnsafeBytes { bytes -> String? in
            if bytes[0] == 0x80 { return "a raw pickle stream" }
            if bytes.count >= 262, Array(bytes[257..<262]) == Array("ustar".utf8) { return "a tar archive" }
            return nil
        }
        if let legacy {
            throw MVLMError(
                .unsupported,
                "legacy PyTorch serialization (torch < 1.6) is not supported: the file is \(legacy), not a zip archive; re-save with torch>=1.6 (torch.save(torch.load(path, weights_only=True), path))",
                file: path)
        }
    }

    /// Finds the single `<top>/data.pkl`; refuses TorchScript archives.
    private static func findTopFolder(_ archive: ZipArchive, path: String) throws -> String {
        let tops = archive.entries.compactMap { entry -> String? in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty ? String(parts[0]) : nil
        }
        let isTorchScript = archive.entries.contains { entry in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count >= 2 && (parts[1] == "constants.pkl" || (parts[1] == "code" && parts.count > 2))
        }
        if isTorchScript {
            throw MVLMError(
                .unsupported,
                "this is a TorchScript archive (torch.jit.save: it has constants.pkl/code/), not a torch.save checkpoint; load it with torch.jit.load and save its state_dict() with torch.save",
                file: path)
        }
        if tops.isEmpty, archive.entry(named: "model.weights.h5") != nil {
            throw MVLMError(
                .unsupported,
                "this is a Keras .keras archive, not a torch.save checkpoint; unzip it and inspect its model.weights.h5",
                file: path)
        }
        guard let top = tops.first else {
            throw MVLMError(
                .notFound,
                "the zip archive has no '<folder>/data.pkl' entry, so it is not a torch.save checkpoint",
                file: path)
        }
        guard tops.count == 1 else {
            throw MVLMError(
                .malformed,
                "the zip archive has \(tops.count) '<folder>/data.pkl' entries (\(tops.prefix(3).map { PyTorchText.quoted($0) }.joined(separator: ", "))); expected one",
                file: path)
        }
        return top
    }

    /// A small text entry (`version`, `byteorder`) without surrounding whitespace.
    private static func smallText(_ entry: ZipArchive.Entry, _ archive: ZipArchive, path: String) throws -> String {
        guard entry.uncompressedSize <= 64 else {
            throw MVLMError(
                .malformed, "zip entry \(PyTorchText.quoted(entry.name)) has \(entry.uncompressedSize) bytes, expected a short text",
                file: path)
        }
        let bytes = try archive.contents(of: entry).withUnsafeBytes { Array($0) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MVLMError(.malformed, "zip entry \(PyTorchText.quoted(entry.name)) is not UTF-8 text", file: path)
        }
        return String(text.unicodeScalars.filter { !$0.properties.isWhitespace })
    }
}
