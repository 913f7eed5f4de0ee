import Foundation
import MVLMCompression
import MVLMCore
import MVLMFileIO

/// Streams an `.mvlm` file to disk, tensor by tensor.
///
/// Layout: the 64-byte header (written last, in place), tensor data (each tensor 64-byte aligned),
/// then the JSON manifest. Nothing appears under the output name until `finish` succeeds; the same
/// inputs give byte-identical files (sorted JSON keys, no timestamps, zero padding).
public final class ModelFileWriter {
    private let output: AtomicFileWriter
    private var entries: [ModelManifest.TensorEntry] = []
    private var current: ModelManifest.TensorEntry?
    private var currentWritten = 0
    private var currentCRC: UInt32 = 0
    private var names = Set<String>()
    public var path: String { output.destination }

    /// Creates the temporary output and reserves the header.
    public init(path: String) throws {
        output = try AtomicFileWriter(destination: path)
        try output.writeZeros(ModelFileHeader.size)
    }

    /// Starts a tensor of `bytes` bytes; its data follows through `write`.
    /// - Throws: `MVLMError` for a duplicate name, an unknown dtype, or a byte count that does not
    ///   match dtype and shape.
    public func beginTensor(
        name: String, dtype: DType, shape: [Int], source: [MetadataValue] = [], layout: [String: MetadataValue] = [:]
    ) throws {
        guard current == nil else {
            throw MVLMError(.invalidArgument, "tensor '\(current!.name)' is not finished", file: path)
        }
        guard names.insert(name).inserted else {
            throw MVLMError(.invalidArgument, "duplicate tensor name", file: path, subject: "tensor '\(name)'")
        }
        guard let bytes = dtype.byteCount(shape: shape) else {
            throw MVLMError(
                .invalidArgument, "\(dtype.name) cannot hold shape \(Shape.describe(shape))", file: path,
                subject: "tensor '\(name)'")
        }
        let padding = (ModelFileHeader.alignment - output.bytesWritten % ModelFileHeader.alignment) % ModelFileHeader.alignment
        try output.writeZeros(padding)
        current = ModelManifest.TensorEntry(
            name: name, dtype: dtype.name, shape: shape, offset: output.bytesWritten, bytes: bytes, crc32: 0,
            source: source, layout: layout)
        currentWritten = 0
        currentCRC = 0
    }

    /// Appends bytes of the current tensor.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let entry = current, currentWritten + bytes.count <= entry.bytes else {
            throw MVLMError(.invalidArgument, "more bytes than the tensor holds", file: path, subject: current.map { "tensor '\($0.name)'" })
        }
        try output.write(bytes)
        currentCRC = CRC32.checksum(bytes, initial: currentCRC)
        currentWritten += bytes.count
    }

    /// Ends the current tensor. - Throws: when fewer bytes than declared were written.
    public func endTensor() throws {
        guard var entry = current else {
            throw MVLMError(.invalidArgument, "no tensor to end", file: path)
        }
        guard currentWritten == entry.bytes else {
            throw MVLMError(
                .invalidArgument, "wrote \(currentWritten) of \(entry.bytes) bytes", file: path, subject: "tensor '\(entry.name)'")
        }
        entry.crc32 = currentCRC
        entries.append(entry)
        current = nil
    }

    /// Writes a whole tensor.
    public func addTensor(
        name: String, dtype: DType, shape: [Int], bytes: UnsafeRawBufferPointer, source: [MetadataValue] = [],
        layout: [String: MetadataValue] = [:]
    ) throws {
        try beginTensor(name: name, dtype: dtype, shape: shape, source: source, layout: layout)
        try write(bytes)
        try endTensor()
    }

    /// The manifest's bytes as written: sorted keys, no insignificant whitespace.
    static func encode(_ manifest: ModelManifest) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(manifest))
    }

    /// The exact size of the file that writing `tensors` (dtype and shape, in order, with their
    /// `source` lists) and `manifest` would produce, without writing anything.
    public static func predictedFileSize(
        tensors: [(name: String, dtype: DType, shape: [Int], source: [MetadataValue])], manifest: ModelManifest
    ) throws -> Int {
        try predictedFileSize(tensors: tensors.map { ($0.name, $0.dtype, $0.shape, $0.source, [:]) }, manifest: manifest)
    }

    /// `predictedFileSize` for tensors with a stored layout object each (`layout`, as `beginTensor` takes).
    public static func predictedFileSize(
        tensors: [(name: String, dtype: DType, shape: [Int], source: [MetadataValue], layout: [String: MetadataValue])],
        manifest: ModelManifest
    ) throws -> Int {
        var offset = ModelFileHeader.size
        var entries: [ModelManifest.TensorEntry] = []
        for tensor in tensors {
            guard let bytes = tensor.dtype.byteCount(shape: tensor.shape) else {
                throw MVLMError(.invalidArgument, "\(tensor.dtype.name) cannot hold shape \(Shape.describe(tensor.shape))", subject: "tensor '\(tensor.name)'")
            }
            offset += (ModelFileHeader.alignment - offset % ModelFileHeader.alignment) % ModelFileHeader.alignment
            entries.append(.init(name: tensor.name, dtype: tensor.dtype.name, shape: tensor.shape, offset: offset, bytes: bytes, crc32: 0, source: tensor.source, layout: tensor.layout))
            offset += bytes
        }
        offset += (8 - offset % 8) % 8
        var complete = manifest
        complete.tensors = entries
        return offset + (try encode(complete)).count
    }

    /// Writes the manifest (with the tensor table filled in) and the header, then publishes the file.
    /// - Parameter review: when given, called with the path of the complete but unpublished file
    ///   (a valid `.mvlm` file under a temporary name); a manifest it returns replaces the written
    ///   one before publishing (its tensor table is kept as written). `convert --verify` records
    ///   its summary this way, so the file appears under its name only once verified.
    /// - Returns: the manifest as written.
    @discardableResult
    public func finish(manifest: ModelManifest, review: ((String) throws -> ModelManifest?)? = nil) throws -> ModelManifest {
        guard current == nil else {
            throw MVLMError(.invalidArgument, "tensor '\(current!.name)' is not finished", file: path)
        }
        var manifest = manifest
        manifest.tensors = entries
        let dataEnd = output.bytesWritten
        try output.writeZeros((8 - dataEnd % 8) % 8)
        let manifestOffset = output.bytesWritten
        try writeManifest(manifest, at: manifestOffset, dataEnd: dataEnd)
        if let review {
            try output.flush()
            if var revised = try review(output.temporaryPath) {
                revised.tensors = entries
                try output.truncate(to: manifestOffset)
                try writeManifest(revised, at: manifestOffset, dataEnd: dataEnd)
                manifest = revised
            }
        }
        try output.commit()
        return manifest
    }

    /// Appends the manifest at `offset` (the current end) and patches the header to describe it.
    private func writeManifest(_ manifest: ModelManifest, at offset: Int, dataEnd: Int) throws {
        let dataOffset = ModelFileHeader.size
        let json = try Self.encode(manifest)
        try output.write(json)
        let crc = json.withUnsafeBytes { CRC32.checksum($0) }
        let header = ModelFileHeader(
            fileSize: UInt64(output.bytesWritten), dataOffset: UInt64(dataOffset),
            dataSize: UInt64(dataEnd - dataOffset), manifestOffset: UInt64(offset),
            manifestSize: UInt64(json.count), manifestCRC32: crc)
        try header.encoded().withUnsafeBytes { try output.write($0, at: 0) }
    }
}
