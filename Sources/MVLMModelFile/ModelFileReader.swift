import Foundation
import MVLMCompression
import MVLMCore
import MVLMFileIO

/// Reads an `.mvlm` file: checks the header and manifest, then gives zero-copy views of tensors
/// straight from the memory map (the file is used in place, never repacked at load).
///
/// Corruption is never passed on: opening checks that the padding between tensors (and before the
/// manifest) is zero, and `tensor(named:)` checks a tensor's CRC-32 the first time it is asked for
/// (once per reader), unless `verifiesChecksums` is off (`mvlm run --no-verify-checksums`). So
/// `convert`, `pack`, `run` and `dump` of a damaged file fail naming the tensor instead of writing
/// or using bad bytes.
public struct ModelFileReader: TensorReader {
    public let formatName = "mvlm"
    public let path: String
    public let header: ModelFileHeader
    public let manifest: ModelManifest
    public let tensorInfos: [TensorInfo]
    private let file: MappedFile
    private let entries: [String: (entry: ModelManifest.TensorEntry, dtype: DType, layout: TensorLayout)]
    /// Names of the tensors whose CRC-32 has already been checked.
    private let verified = VerifiedNames()

    /// Whether `tensor(named:)` checks each tensor's CRC-32 on first use (default: `verifiesChecksumsByDefault`).
    public var verifiesChecksums = ModelFileReader.verifiesChecksumsByDefault

    /// The default of `verifiesChecksums` for readers opened from now on (`true`; `mvlm run
    /// --no-verify-checksums` turns it off for the process). Set it before opening files.
    public nonisolated(unsafe) static var verifiesChecksumsByDefault = true

    /// Format-level metadata: the manifest's `metadata` plus `format_version`, the quantization
    /// recipe without its per-tensor decisions (`quantization`), and the `convert --verify`
    /// summary (`verification`) when the file has one.
    public var metadata: [String: MetadataValue] {
        var result = manifest.metadata
        result["format_version"] = .string("\(header.major).\(header.minor)")
        if case .object(var recipe) = manifest.quantization {
            recipe["decisions"] = nil
            recipe["dropped"] = nil
            result["quantization"] = .object(recipe)
        }
        if let verification = manifest.verification { result["verification"] = verification }
        if let tokenizer = manifest.tokenizer {
            if case .object(let files) = tokenizer["files"] ?? .null {
                result["tokenizer"] = .string("embedded files: " + files.keys.sorted().joined(separator: ", "))
            } else if case .object(let keys) = tokenizer["gguf"] ?? .null {
                let model = keys["tokenizer.ggml.model"]?.stringValue ?? "?"
                let count = keys["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0
                result["tokenizer"] = .string("embedded GGUF vocabulary: \(model), \(count) tokens")
            }
        }
        return result
    }

    /// Opens `path` and validates its header, manifest and tensor table (not the tensor checksums:
    /// see `verifyIntegrity`).
    /// - Throws: `MVLMError` naming the file and the tensor or field that is wrong.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let header = try file.withUnsafeBytes { try ModelFileHeader.decode($0, fileLength: file.count, path: path) }
        let manifestRange = Int(header.manifestOffset)..<Int(header.manifestOffset + header.manifestSize)
        let manifestData = file.withUnsafeBytes { Data($0[manifestRange]) }
        let crc = manifestData.withUnsafeBytes { CRC32.checksum($0) }
        guard crc == header.manifestCRC32 else {
            throw MVLMError(
                .malformed, "manifest checksum mismatch (stored \(hex(header.manifestCRC32)), computed \(hex(crc))): the file is corrupt",
                file: path)
        }
        let manifest: ModelManifest
        do {
            manifest = try JSONDecoder().decode(ModelManifest.self, from: manifestData)
        } catch {
            throw MVLMError(.malformed, "manifest is not valid: \(error)", file: path)
        }
        let dataRange = Int(header.dataOffset)..<Int(header.dataOffset + header.dataSize)
        var entries: [String: (entry: ModelManifest.TensorEntry, dtype: DType, layout: TensorLayout)] = [:]
        var infos: [TensorInfo] = []
        var previousEnd = dataRange.lowerBound
        let displayName = (path as NSString).lastPathComponent
        for entry in manifest.tensors {
            let subject = "tensor '\(entry.name)'"
            guard entries[entry.name] == nil else {
                throw MVLMError(.malformed, "listed twice in the manifest", file: path, subject: subject)
            }
            guard let dtype = DType(name: entry.dtype) else {
                throw MVLMError(.unsupported, "unknown dtype '\(entry.dtype)' (written by a newer mvlm?)", file: path, subject: subject)
            }
            guard let bytes = dtype.byteCount(shape: entry.shape),
                bytes == entry.bytes
            else {
                throw MVLMError(
                    .malformed, "\(entry.bytes) bytes do not hold \(entry.dtype) \(Shape.describe(entry.shape))",
                    file: path, subject: subject)
            }
            let (end, overflow) = entry.offset.addingReportingOverflow(entry.bytes)
            guard !overflow, entry.offset % ModelFileHeader.alignment == 0, entry.offset >= previousEnd,
                end <= dataRange.upperBound
            else {
                throw MVLMError(
                    .outOfBounds,
                    "data \(entry.offset)..<\(overflow ? Int.max : end) is misaligned, overlaps the previous tensor, or leaves the data section \(dataRange)",
                    file: path, subject: subject)
            }
            let layout = try Self.layout(of: entry, dtype: dtype, path: path)
            try Self.checkZeroPadding(file, previousEnd..<entry.offset, path: path, before: subject)
            previousEnd = end
            entries[entry.name] = (entry, dtype, layout)
            infos.append(TensorInfo(name: entry.name, dtype: dtype, shape: entry.shape, byteCount: entry.bytes, file: displayName))
        }
        try Self.checkZeroPadding(file, ModelFileHeader.size..<dataRange.lowerBound, path: path, before: "the data section")
        try Self.checkZeroPadding(file, previousEnd..<dataRange.upperBound, path: path, before: "the end of the data section")
        try Self.checkZeroPadding(file, dataRange.upperBound..<Int(header.manifestOffset), path: path, before: "the manifest")
        self.path = path
        self.file = file
        self.header = header
        self.manifest = manifest
        self.entries = entries
        self.tensorInfos = infos
    }

    /// The tensor: a view into the mapping, its CRC-32 checked on first use unless
    /// `verifiesChecksums` is off.
    /// - Throws: `MVLMError` naming the file and tensor: `.notFound`, or `.malformed` when its
    ///   bytes fail their checksum.
    public func tensor(named name: String) throws -> Tensor {
        let tensor = try unverifiedTensor(named: name)
        if verifiesChecksums, !verified.contains(name) {
            try check(entries[name]!.entry, tensor)
            verified.insert(name)
        }
        return tensor
    }

    private func unverifiedTensor(named name: String) throws -> Tensor {
        guard let (entry, dtype, layout) = entries[name] else {
            throw MVLMError(.notFound, "no tensor named '\(name)'", file: path)
        }
        return try Tensor(
            storage: file.storage(for: entry.offset..<(entry.offset + entry.bytes)), dtype: dtype, shape: entry.shape,
            layout: layout)
    }

    /// The tensor, after checking its bytes against the manifest's CRC-32, whatever
    /// `verifiesChecksums` says.
    public func verifiedTensor(named name: String) throws -> Tensor {
        let tensor = try unverifiedTensor(named: name)
        try check(entries[name]!.entry, tensor)
        verified.insert(name)
        return tensor
    }

    /// Throws unless every byte of `range` (padding between tensors, or before the manifest) is zero.
    static func checkZeroPadding(_ file: MappedFile, _ range: Range<Int>, path: String, before: String) throws {
        guard !range.isEmpty else { return }
        let nonzero = file.withUnsafeBytes { bytes in
            bytes[range].firstIndex { $0 != 0 }
        }
        if let nonzero {
            throw MVLMError(
                .malformed,
                "padding byte \(nonzero) (in \(range.lowerBound)..<\(range.upperBound), before \(before)) is not zero: the file is corrupt",
                file: path)
        }
    }

    /// Checks every tensor's CRC-32; returns the names of the tensors that fail (empty when intact).
    public func verifyIntegrity(progress: (Int, Int) -> Void = { _, _ in }) -> [String] {
        var failures: [String] = []
        for (index, info) in tensorInfos.enumerated() {
            do {
                try check(entries[info.name]!.entry, try unverifiedTensor(named: info.name))
            } catch {
                failures.append(info.name)
            }
            progress(index + 1, tensorInfos.count)
        }
        return failures
    }

    /// The stored layout a tensor entry's `layout` object names: `{}` is row-major,
    /// `{"kind": "rows16"}` the repacked groups of 16 rows (Formats/mvlm.md).
    static func layout(of entry: ModelManifest.TensorEntry, dtype: DType, path: String) throws -> TensorLayout {
        let subject = "tensor '\(entry.name)'"
        if entry.layout.isEmpty { return .rowMajor }
        guard entry.layout.count == 1, case .string(let kind)? = entry.layout["kind"],
            let layout = TensorLayout(rawValue: kind), layout != .rowMajor
        else {
            throw MVLMError(
                .unsupported, "has a layout this reader does not know (\(entry.layout.keys.sorted())); written by a newer mvlm?",
                file: path, subject: subject)
        }
        guard case .block(let type) = dtype, RowInterleave.applies(to: type, shape: entry.shape) else {
            throw MVLMError(
                .malformed, "is stored as \(kind), which needs a Q4_0, Q8_0, Q4_K or Q6_K matrix of 16k rows, not \(entry.dtype) \(Shape.describe(entry.shape))",
                file: path, subject: subject)
        }
        return layout
    }

    private func check(_ entry: ModelManifest.TensorEntry, _ tensor: Tensor) throws {
        let crc = tensor.withUnsafeStoredBytes { CRC32.checksum($0) }
        guard crc == entry.crc32 else {
            throw MVLMError(
                .malformed, "checksum mismatch (stored \(hex(entry.crc32)), computed \(hex(crc))): the tensor's bytes are corrupt",
                file: path, subject: "tensor '\(entry.name)'")
        }
    }
}

/// The names of tensors already checked, shared by copies of a reader.
private final class VerifiedNames: @unchecked Sendable {
    private let lock = NSLock()
    private var names: Set<String> = []

    func contains(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return names.contains(name)
    }

    func insert(_ name: String) {
        lock.lock()
        defer { lock.unlock() }
        names.insert(name)
    }
}
