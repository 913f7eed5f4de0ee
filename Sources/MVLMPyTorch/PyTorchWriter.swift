import MVLMCore
import MVLMFileIO

/// Writes a state dict of contiguous tensors as `torch.save(state_dict, path)` does, so that
/// `torch.load(path, weights_only=True)` returns an `OrderedDict` of the same names and values.
///
/// The archive holds `<stem>/data.pkl` (protocol 2: `collections.OrderedDict`,
/// `torch._utils._rebuild_tensor_v2` and persistent ids naming typed storages; unsigned 16/32/64-bit
/// and 8-bit float tensors use `_rebuild_tensor_v3` with an untyped storage, as torch does),
/// `<stem>/byteorder` (`little`), one stored entry `<stem>/data/<index>` per tensor whose data
/// starts at a multiple of 64 bytes, and `<stem>/version` (`3`). Tensor bytes are streamed: one
/// tensor at a time passes through, with its CRC-32 computed on the fly. The file appears
/// atomically (`AtomicFileWriter`).
public enum PyTorchWriter {
    /// A tensor to write: its name in the state dict, element type and shape.
    public typealias TensorEntry = TensorSpec

    /// Writes `entries` in order; `data` supplies each tensor's row-major little-endian bytes.
    ///
    /// - Parameters:
    ///   - entries: names (unique), scalar dtypes and shapes, in state-dict order.
    ///   - path: the destination (`.bin`, `.pt`, `.pth`); its stem names the archive's top folder.
    ///   - data: called once per entry, in order, with the entry's index, the entry, and a sink; it
    ///     must pass exactly the entry's byte count to the sink, in one or more calls.
    /// - Throws: `MVLMError` (`.invalidArgument`) for duplicate names, block dtypes, overflowing
    ///   shapes, or a wrong number of bytes; `.io` when writing fails. Nothing is left at `path`
    ///   unless the whole file was written.
    public static func write(
        _ entries: [TensorEntry], to path: String,
        data: (_ index: Int, _ entry: TensorEntry, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        try write(entries, to: path, forceZip64: false, data: data)
    }

    /// Writes `entries` in order, asking `tensor` for each one's data (a mapped view is fine;
    /// strided views are made contiguous one at a time).
    /// - Throws: as `write(_:to:data:)`, and `.invalidArgument` when a returned tensor's dtype or
    ///   shape differs from its entry.
    public static func write(
        _ entries: [TensorEntry], to path: String, tensor: (_ index: Int, _ entry: TensorEntry) throws -> Tensor
    ) throws {
        try write(entries, to: path) { index, entry, sink in
            let value = try tensor(index, entry)
            guard value.dtype == entry.dtype, value.shape == entry.shape else {
                throw MVLMError(
                    .invalidArgument,
                    "tensor is \(value.dtype.name) \(Shape.describe(value.shape)) but its entry says \(entry.dtype.name) \(Shape.describe(entry.shape))",
                    file: path, subject: "tensor \(PyTorchText.quoted(entry.name))")
            }
            try value.withUnsafeBytes { try sink($0) }
        }
    }

    /// Copies every tensor of `reader` (in its order) into a torch.save checkpoint at `path`.
    public static func write(contentsOf reader: some TensorReader, to path: String) throws {
        let entries = reader.tensorInfos.map { TensorEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        try write(entries, to: path) { _, entry in try reader.tensor(named: entry.name) }
    }

    static func write(
        _ entries: [TensorEntry], to path: String, forceZip64: Bool,
        data: (Int, TensorEntry, (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        var byteCounts: [Int] = []
        var seen: Set<String> = []
        for entry in entries {
            let subject = "tensor \(PyTorchText.quoted(entry.name))"
            guard seen.insert(entry.name).inserted else {
                throw MVLMError(.invalidArgument, "the name appears twice", file: path, subject: subject)
            }
            guard storageName(entry.dtype) != nil else {
                throw MVLMError(
                    .invalidArgument, "\(entry.dtype.name) has no torch equivalent", file: path, subject: subject)
            }
            guard let count = Shape.elementCount(entry.shape), let bytes = entry.dtype.byteCount(elementCount: count)
            else {
                throw MVLMError(
                    .invalidArgument, "shape \(Shape.describe(entry.shape)) overflows", file: path, subject: subject)
            }
            byteCounts.append(bytes)
        }
        let top = archiveName(for: path)
        let pickle = statePickle(entries)
        let output = try AtomicFileWriter(destination: path)
        var zip = StoredZipWriter(output: output, forceZip64: forceZip64)
        do {
            try zip.beginEntry("\(top)/data.pkl", size: pickle.count)
            try zip.write(pickle)
            try zip.endEntry()
            let order = Array("little".utf8)
            try zip.beginEntry("\(top)/byteorder", size: order.count)
            try zip.write(order)
            try zip.endEntry()
            for (index, entry) in entries.enumerated() {
                try zip.beginEntry("\(top)/data/\(index)", size: byteCounts[index])
                try data(index, entry) { try zip.write($0) }
                try zip.endEntry()
            }
            let version = Array("3\n".utf8)
            try zip.beginEntry("\(top)/version", size: version.count)
            try zip.write(version)
            try zip.endEntry()
            try zip.finish()
        } catch var error as MVLMError {
            if error.file == nil { error.file = path }
            throw error
        }
        try output.commit()
    }

    /// The pickle torch.save writes for an OrderedDict of fresh contiguous tensors.
    static func statePickle(_ entries: [TensorEntry]) -> [UInt8] {
        var pickle = PickleEncoder()
        pickle.protocol2()
        pickle.global("collections", "OrderedDict")
        pickle.emptyTuple()
        pickle.reduce()
        pickle.mark()
        for (index, entry) in entries.enumerated() {
            let (storage, typed) = storageName(entry.dtype)!
            let elementSize = entry.dtype.scalarByteSize!
            let count = Shape.elementCount(entry.shape)!
            pickle.string(entry.name)
            pickle.global("torch._utils", typed ? "_rebuild_tensor_v2" : "_rebuild_tensor_v3")
            pickle.mark()
            pickle.mark()  // persistent id ('storage', type, key, 'cpu', numel)
            pickle.string("storage")
            pickle.global(typed ? "torch" : "torch.storage", storage)
            pickle.string(String(index))
            pickle.string("cpu")
            pickle.int(typed ? count : count * elementSize)
            pickle.tuple()
            pickle.persistentID()
            pickle.int(0)
            pickle.intTuple(entry.shape)
            pickle.intTuple(Shape.contiguousStrides(entry.shape))
            pickle.bool(false)
            pickle.global("collections", "OrderedDict")
            pickle.emptyTuple()
            pickle.reduce()
            if !typed { pickle.global("torch", torchDTypeName(entry.dtype)) }
            pickle.tuple()
            pickle.reduce()
        }
        pickle.setItems()
        pickle.stop()
        return pickle.bytes
    }

    /// The storage class torch uses for `dtype`, and whether it is a typed storage (v2) or the
    /// untyped storage that `_rebuild_tensor_v3` takes.
    static func storageName(_ dtype: DType) -> (String, typed: Bool)? {
        switch dtype {
        case .float64: ("DoubleStorage", true)
        case .float32: ("FloatStorage", true)
        case .float16: ("HalfStorage", true)
        case .bfloat16: ("BFloat16Storage", true)
        case .int64: ("LongStorage", true)
        case .int32: ("IntStorage", true)
        case .int16: ("ShortStorage", true)
        case .int8: ("CharStorage", true)
        case .uint8: ("ByteStorage", true)
        case .bool: ("BoolStorage", true)
        case .uint16, .uint32, .uint64, .float8E4M3, .float8E5M2: ("UntypedStorage", false)
        case .block: nil
        }
    }

    static func torchDTypeName(_ dtype: DType) -> String {
        switch dtype {
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .float8E4M3: "float8_e4m3fn"
        case .float8E5M2: "float8_e5m2"
        default: "float32"
        }
    }

    /// torch names the top folder after the file (`os.path.splitext(os.path.basename(f))[0]`).
    static func archiveName(for path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let stem = base.lastIndex(of: ".").map { String(base[..<$0]) } ?? base
        let safe = !stem.isEmpty && stem.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x2F }
        return safe ? stem : "archive"
    }
}
