import Foundation
import MVLMCore
import MVLMFileIO
import MVLMGGUF
import MVLMHDF5
import MVLMModelFile
import MVLMPyTorch
import MVLMSafetensors

/// The file formats the toolkit reads, recognized by their leading bytes (never by file name).
public enum CheckpointFormat: String, Sendable, CaseIterable, Codable {
    case safetensors
    case pytorch
    case gguf
    case hdf5
    /// MobileVLMKit's own model file (Formats/mvlm.md).
    case mvlm

    /// Identifies the format of the file at `path` from its first bytes.
    ///
    /// - safetensors: an 8-byte little-endian header length followed by `{`;
    /// - PyTorch: a zip archive (`PK\u{3}\u{4}`), or the legacy pickle/tar forms, which the PyTorch
    ///   reader refuses with a message that names them;
    /// - GGUF: the magic `GGUF`;
    /// - .mvlm: the magic `MVLM\r\n\u{1A}\n`;
    /// - HDF5: the signature `\u{89}HDF\r\n\u{1A}\n` at offset 0 (or 512, 1024, ... after a user block).
    /// - Throws: `MVLMError` (`.unsupported`) when the bytes match no format.
    public static func detect(path: String) throws -> CheckpointFormat {
        let file = try MappedFile(path: path)
        return try file.withUnsafeBytes { bytes -> CheckpointFormat in
            guard !bytes.isEmpty else {
                throw MVLMError(.truncated, "file is empty", file: path)
            }
            func starts(with prefix: [UInt8], at offset: Int = 0) -> Bool {
                guard bytes.count >= offset + prefix.count else { return false }
                return zip(bytes[offset..<(offset + prefix.count)], prefix).allSatisfy { $0 == $1 }
            }
            if starts(with: Array("GGUF".utf8)) { return .gguf }
            if starts(with: ModelFileHeader.magic) { return .mvlm }
            if starts(with: [0x28, 0xB5, 0x2F, 0xFD]) {
                throw MVLMError(
                    .unsupported,
                    "zstd-compressed file; if it is an .mvlm distribution file, unpack it first: mvlm unpack FILE -o OUT.mvlm",
                    file: path)
            }
            let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
            var offset = 0
            while offset + 8 <= bytes.count, offset <= 1 << 20 {
                if starts(with: hdf5Signature, at: offset) { return .hdf5 }
                offset = offset == 0 ? 512 : offset * 2
            }
            if starts(with: [0x50, 0x4B, 0x03, 0x04]) || starts(with: [0x50, 0x4B, 0x05, 0x06]) {
                return .pytorch
            }
            // Legacy torch.save: a raw pickle stream (protocol 2 starts with 0x80 0x02) or a tar.
            if starts(with: [0x80]) && bytes.count > 1 && (2...5).contains(bytes[1]) { return .pytorch }
            if starts(with: Array("ustar".utf8), at: 257) { return .pytorch }
            if bytes.count >= 9 && bytes[8] == UInt8(ascii: "{") { return .safetensors }
            throw MVLMError(
                .unsupported,
                "unrecognized file format (expected safetensors, a PyTorch .bin/.pt zip, GGUF or HDF5)",
                file: path)
        }
    }

    /// Opens a single file of this format.
    public func openReader(path: String) throws -> any TensorReader {
        switch self {
        case .safetensors: try SafetensorsReader(path: path)
        case .pytorch: try PyTorchReader(path: path)
        case .gguf: try GGUFReader(path: path)
        case .hdf5: try HDF5Reader(path: path)
        case .mvlm: try ModelFileReader(path: path)
        }
    }
}
