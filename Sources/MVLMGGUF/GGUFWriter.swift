import MVLMCore
import MVLMFileIO

/// Streams a GGUF v3 file (little-endian), tensor by tensor, so memory stays bounded by what the
/// caller hands over at a time, whatever the model's size.
///
/// GGUF puts every tensor's offset in the header, before any data, so the tensor table is given up
/// front (`init`); the data then follows in that order through `beginTensor`, `write` and
/// `endTensor`. The layout is the one `Formats/gguf.md` describes: header, metadata key-value
/// pairs in the order given, tensor infos, zero padding to the alignment, then each tensor's bytes
/// padded with zeros to the alignment (as gguf-py and ggml write it).
///
/// The file goes through `AtomicFileWriter`: nothing appears under the output name until
/// `finish()` succeeds; a writer discarded before that removes its temporary file.
public final class GGUFWriter {
    /// One tensor of the table: its name, element type and row-major shape (the writer stores the
    /// dimensions innermost first, as ggml's `ne`).
    public typealias Tensor = TensorSpec

    /// The ggml type id of `dtype`, or nil for a type GGUF cannot hold (the toolkit's own schemes
    /// `INT8_B32`, `AFFINE4_G*`, and bool/unsigned integer tensors).
    public static func ggmlTypeID(of dtype: DType) -> UInt32? {
        switch dtype {
        case .float32: 0
        case .float16: 1
        case .bfloat16: 30
        case .int8: 24
        case .int16: 25
        case .int32: 26
        case .int64: 27
        case .float64: 28
        case .block(let block): block.ggmlTypeID
        default: nil
        }
    }

    public var path: String { output.destination }
    /// The data alignment in bytes.
    public let alignment: Int
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int
    /// The tensors in file order with their offsets in the data section and byte counts.
    public let tensorTable: [(tensor: Tensor, offset: Int, bytes: Int)]

    private let output: AtomicFileWriter
    private var next = 0
    private var currentWritten = 0
    private var inTensor = false

    /// Writes the header, the metadata and the tensor infos to a temporary file next to `path`.
    ///
    /// - Parameters:
    ///   - path: the GGUF file to write.
    ///   - metadata: the key-value pairs in the order to write them. Each value must fit its
    ///     declared type; arrays are `.array(values, elementType:)` with the element type's GGUF name
    ///     (`UINT32`, `STRING`, `ARRAY` for nested arrays, ...). A `general.alignment` entry (UINT32,
    ///     a power of two) sets the alignment; otherwise it is 32 and no key is written.
    ///   - tensors: the tensor table, in the order the data will follow.
    /// - Throws: `MVLMError` (`.invalidArgument`) naming the key or tensor: duplicate keys or names, a
    ///   value that does not fit its type, a dtype GGUF cannot hold, a shape whose rows do not fill
    ///   whole blocks; `.io` when the file cannot be written.
    public init(path: String, metadata: [GGUFMetadataEntry], tensors: [Tensor]) throws {
        let layout = try Self.layout(path: path, metadata: metadata, tensors: tensors)
        alignment = layout.alignment
        dataOffset = layout.header.count
        tensorTable = layout.table
        output = try AtomicFileWriter(destination: path)
        try output.write(layout.header)
    }

    /// The exact size of the file `metadata` and `tensors` make, without writing anything.
    /// - Throws: as `init` does for invalid metadata or tensors.
    public static func fileSize(metadata: [GGUFMetadataEntry], tensors: [Tensor]) throws -> Int {
        let layout = try layout(path: "GGUF", metadata: metadata, tensors: tensors)
        return layout.header.count + layout.table.reduce(0) { $0 + padded($1.bytes, to: layout.alignment) }
    }

    /// The encoded header (padded to the alignment), the alignment and the tensor table.
    private static func layout(
        path: String, metadata: [GGUFMetadataEntry], tensors: [Tensor]
    ) throws -> (header: [UInt8], alignment: Int, table: [(tensor: Tensor, offset: Int, bytes: Int)]) {
        var alignment = 32
        var keys = Set<String>()
        for entry in metadata {
            guard keys.insert(entry.key).inserted else {
                throw MVLMError(.invalidArgument, "duplicate metadata key", file: path, subject: "key '\(entry.key)'")
            }
            if entry.key == "general.alignment" {
                guard entry.type == .uint32, let value = entry.value.intValue, value > 0, value & (value - 1) == 0 else {
                    throw MVLMError(
                        .invalidArgument, "must be a UINT32 power of two, not \(entry.type) \(entry.value.summary())",
                        file: path, subject: "key 'general.alignment'")
                }
                alignment = value
            }
        }
        var header = GGUFByteBuffer()
        header.append(contentsOf: Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for entry in metadata {
            header.appendString(entry.key)
            header.append(entry.type.rawValue)
            do {
                try header.appendValue(entry.value, type: entry.type)
            } catch let error as MVLMError {
                throw MVLMError(error.code, error.message, file: path, subject: "key '\(entry.key)'")
            }
        }
        var names = Set<String>()
        var table: [(tensor: Tensor, offset: Int, bytes: Int)] = []
        var offset = 0
        for tensor in tensors {
            let subject = "tensor '\(tensor.name)'"
            guard names.insert(tensor.name).inserted else {
                throw MVLMError(.invalidArgument, "duplicate tensor name", file: path, subject: subject)
            }
            guard let typeID = Self.ggmlTypeID(of: tensor.dtype) else {
                throw MVLMError(.invalidArgument, "\(tensor.dtype.name) has no ggml type and cannot be stored in a GGUF file", file: path, subject: subject)
            }
            // ggml loads 1 to 4 dimensions; gguf-py (and our reader) allow 0 (a scalar) and more.
            guard tensor.shape.count <= GGUFReader.maximumDimensions, tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw MVLMError(
                    .invalidArgument, "shape \(Shape.describe(tensor.shape)) must have at most \(GGUFReader.maximumDimensions) dimensions (llama.cpp loads 1 to 4)",
                    file: path, subject: subject)
            }
            if case .block(let block) = tensor.dtype, (tensor.shape.last ?? 1) % block.blockElements != 0 {
                throw MVLMError(
                    .invalidArgument, "rows of \(tensor.shape.last ?? 1) elements do not fill whole \(block.name) blocks of \(block.blockElements)",
                    file: path, subject: subject)
            }
            guard let count = Shape.elementCount(tensor.shape), let bytes = tensor.dtype.byteCount(elementCount: count) else {
                throw MVLMError(.invalidArgument, "\(tensor.dtype.name) cannot hold shape \(Shape.describe(tensor.shape))", file: path, subject: subject)
            }
            header.appendString(tensor.name)
            header.append(UInt32(tensor.shape.count))
            for dimension in tensor.shape.reversed() { header.append(UInt64(dimension)) }
            header.append(typeID)
            header.append(UInt64(offset))
            table.append((tensor, offset, bytes))
            offset += Self.padded(bytes, to: alignment)
        }
        let dataOffset = Self.padded(header.bytes.count, to: alignment)
        header.bytes += [UInt8](repeating: 0, count: dataOffset - header.bytes.count)
        return (header.bytes, alignment, table)
    }

    /// The size of the file this writer produces when every tensor is written.
    public var fileSize: Int {
        dataOffset + tensorTable.reduce(0) { $0 + Self.padded($1.bytes, to: alignment) }
    }

    /// Starts the next tensor of the table. - Throws: when `name` is not the next one.
    public func beginTensor(named name: String) throws {
        guard !inTensor else {
            throw MVLMError(.invalidArgument, "tensor '\(tensorTable[next].tensor.name)' is not finished", file: path)
        }
        guard next < tensorTable.count, tensorTable[next].tensor.name == name else {
            let expected = next < tensorTable.count ? "'\(tensorTable[next].tensor.name)'" : "none (the table is complete)"
            throw MVLMError(.invalidArgument, "tensors must follow the table's order; expected \(expected)", file: path, subject: "tensor '\(name)'")
        }
        inTensor = true
        currentWritten = 0
    }

    /// Appends bytes of the current tensor.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard inTensor, currentWritten + bytes.count <= tensorTable[next].bytes else {
            throw MVLMError(
                .invalidArgument, "more bytes than the tensor holds", file: path,
                subject: inTensor ? "tensor '\(tensorTable[next].tensor.name)'" : nil)
        }
        try output.write(bytes)
        currentWritten += bytes.count
    }

    /// Ends the current tensor and pads it to the alignment.
    /// - Throws: when fewer bytes than its type and shape hold were written.
    public func endTensor() throws {
        guard inTensor else { throw MVLMError(.invalidArgument, "no tensor to end", file: path) }
        let entry = tensorTable[next]
        guard currentWritten == entry.bytes else {
            throw MVLMError(.invalidArgument, "wrote \(currentWritten) of \(entry.bytes) bytes", file: path, subject: "tensor '\(entry.tensor.name)'")
        }
        try output.writeZeros(Self.padded(entry.bytes, to: alignment) - entry.bytes)
        inTensor = false
        next += 1
    }

    /// Publishes the file (fsync, rename).
    /// - Throws: when a tensor of the table was not written, or on I/O failure.
    public func finish() throws {
        guard !inTensor, next == tensorTable.count else {
            let missing = tensorTable[min(next, tensorTable.count - 1)].tensor.name
            throw MVLMError(.invalidArgument, "tensor '\(missing)' and any after it were not written", file: path)
        }
        try output.commit()
    }

    static func padded(_ count: Int, to alignment: Int) -> Int {
        (count + alignment - 1) / alignment * alignment
    }
}
