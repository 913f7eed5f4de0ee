import MVLMCore
import MVLMFileIO

/// Reads a GGUF file (llama.cpp / ggml, versions 2 and 3, little-endian).
///
/// Opening maps the file and parses and validates the header, the metadata key-value pairs and
/// the tensor-info table; tensor bytes are touched only by `tensor(named:)`, which returns a
/// zero-copy view into the mapping. Quantized tensors are returned as their raw blocks
/// (`DType.block(.q4_1)` ...); dequantizing them is a separate step.
///
/// Shapes are row-major (`shape`), the reverse of GGUF's stored innermost-first dimensions
/// (`GGUFTensorInfo.dimensions`). See `Formats/gguf.md` for what is checked and refused.
public struct GGUFReader: TensorReader {
    /// The path as given.
    public let path: String
    /// The GGUF version (2 or 3).
    public let version: UInt32
    /// The data alignment in bytes (`general.alignment`, default 32).
    public let alignment: Int
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int
    /// Every tensor in file order, with GGUF-specific details.
    public let ggufTensorInfos: [GGUFTensorInfo]
    /// Every tensor in file order.
    public let tensorInfos: [TensorInfo]
    /// Every metadata key-value pair in file order, with its GGUF value type.
    public let metadataEntries: [GGUFMetadataEntry]
    /// The metadata key-value pairs by key.
    public let metadata: [String: MetadataValue]
    /// Keys whose string values held invalid UTF-8, decoded with U+FFFD replacement characters.
    /// Empty for well-formed files.
    public let keysWithRepairedUTF8: [String]

    private let file: MappedFile
    private let tensorIndex: [String: Int]
    let metadataTypes: [String: GGUFValueType]

    /// "gguf".
    public var formatName: String { "gguf" }

    // MARK: Limits (files beyond them are refused with `.malformed` or `.unsupported`)

    /// Most dimensions a tensor may have. ggml uses at most 4; gguf-py writes any rank.
    public static let maximumDimensions = 8
    /// Deepest nesting of metadata arrays. ggml refuses nested arrays; gguf-py writes them.
    public static let maximumArrayDepth = 16
    /// Most metadata values (key-value pairs plus array elements) in one file. Each costs ~50
    /// bytes in memory but may cost 1 byte on disk; real files hold under 2 million.
    public static let maximumMetadataValues = 1 << 23
    /// Most tensors in one file (each info costs ~200 bytes in memory, 24 or more on disk). The
    /// largest models in the wild have a few thousand.
    public static let maximumTensorCount = 1 << 20

    /// Opens, maps and validates the GGUF file at `path`.
    /// - Parameter path: the file to read.
    /// - Throws: `MVLMError` naming the file and the key or tensor concerned: `.io` when the file
    ///   cannot be mapped; `.truncated` when it ends before a declared structure or tensor data;
    ///   `.malformed` for a bad magic, duplicate names, bad alignment, misaligned or overlapping
    ///   tensors; `.unsupported` for version 1, big-endian files and unknown ggml types;
    ///   `.outOfBounds` for offsets past the end and overflowing dimensions.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let layout = try file.withUnsafeBytes { try GGUFParser.parse($0, path: path) }
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        self.path = path
        self.file = file
        self.version = layout.version
        self.alignment = layout.alignment
        self.dataOffset = layout.dataOffset
        self.ggufTensorInfos = layout.tensors
        self.tensorInfos = layout.tensors.map {
            TensorInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape, byteCount: $0.byteCount, file: fileName)
        }
        self.metadataEntries = layout.entries
        self.keysWithRepairedUTF8 = layout.keysWithRepairedUTF8
        var metadata: [String: MetadataValue] = [:]
        var types: [String: GGUFValueType] = [:]
        metadata.reserveCapacity(layout.entries.count)
        types.reserveCapacity(layout.entries.count)
        for entry in layout.entries {
            metadata[entry.key] = entry.value
            types[entry.key] = entry.type
        }
        self.metadata = metadata
        self.metadataTypes = types
        var index: [String: Int] = [:]
        index.reserveCapacity(layout.tensors.count)
        for (position, tensor) in layout.tensors.enumerated() { index[tensor.name] = position }
        self.tensorIndex = index
    }

    /// The GGUF details of the tensor called `name`, or `nil`.
    public func ggufTensorInfo(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { ggufTensorInfos[$0] }
    }

    /// The tensor's data as a zero-copy view into the file mapping.
    ///
    /// Scalar tensors have their `DType` (`F32`, `F16`, `BF16`, `F64`, `I8`...`I64`); quantized
    /// tensors are `.block(_)` with the row-major shape in elements and their raw blocks as bytes.
    /// - Throws: `MVLMError` (`.notFound`) when the file has no such tensor.
    public func tensor(named name: String) throws -> Tensor {
        guard let info = ggufTensorInfo(named: name) else {
            throw MVLMError(
                .notFound, "no such tensor (the file has \(ggufTensorInfos.count) tensors)", file: path,
                subject: "tensor '\(name)'")
        }
        // The range was checked against the file size when the file was opened.
        let storage = file.storage(for: info.fileRange)
        do {
            return try Tensor(storage: storage, dtype: info.dtype, shape: info.shape)
        } catch var error as MVLMError {
            error.file = error.file ?? path
            error.subject = error.subject ?? "tensor '\(name)'"
            throw error
        }
    }
}
