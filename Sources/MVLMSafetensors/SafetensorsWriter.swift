import Foundation
import MVLMCore
import MVLMFileIO

/// Streams a `.safetensors` file to disk: the header is written first from the declared tensors,
/// then each tensor's bytes are appended in order, so memory stays bounded by what the caller holds.
///
/// The file appears under its name only when `finish()` succeeds (temporary file, fsync, rename).
/// The header lists tensors in declaration order with consecutive data offsets and is padded with
/// spaces to a multiple of 8 bytes, so every tensor starts 8-byte aligned.
public final class SafetensorsWriter {
    /// A tensor to be written.
    public typealias TensorSpec = MVLMCore.TensorSpec

    private let output: AtomicFileWriter
    private let sizes: [Int]
    private let names: [String]
    private var current = 0
    private var writtenInCurrent = 0

    /// Creates the file and writes its header.
    /// - Throws: `MVLMError` for a block dtype, an overflowing shape, a duplicate name, or I/O failure.
    public init(path: String, tensors: [TensorSpec], metadata: [String: String] = [:]) throws {
        var sizes: [Int] = []
        var seen = Set<String>()
        for spec in tensors {
            guard spec.dtype.scalarByteSize != nil else {
                throw MVLMError(.invalidArgument, "safetensors cannot store \(spec.dtype.name)", file: path, subject: "tensor '\(spec.name)'")
            }
            guard let count = Shape.elementCount(spec.shape), let bytes = spec.dtype.byteCount(elementCount: count) else {
                throw MVLMError(.outOfBounds, "shape \(Shape.describe(spec.shape)) overflows", file: path, subject: "tensor '\(spec.name)'")
            }
            guard seen.insert(spec.name).inserted, spec.name != "__metadata__" else {
                throw MVLMError(.invalidArgument, "duplicate or reserved tensor name", file: path, subject: "tensor '\(spec.name)'")
            }
            sizes.append(bytes)
        }
        var header = "{"
        var members: [String] = []
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { "\(Self.quote($0)):\(Self.quote(metadata[$0]!))" }
            members.append("\"__metadata__\":{\(entries.joined(separator: ","))}")
        }
        var offset = 0
        for (spec, size) in zip(tensors, sizes) {
            let shape = spec.shape.map(String.init).joined(separator: ",")
            members.append("\(Self.quote(spec.name)):{\"dtype\":\"\(spec.dtype.name)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += members.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8)
        let output = try AtomicFileWriter(destination: path)
        var length = UInt64(headerBytes.count).littleEndian
        try withUnsafeBytes(of: &length) { try output.write($0) }
        try output.write(headerBytes)
        self.output = output
        self.sizes = sizes
        self.names = tensors.map(\.name)
        skipEmpty()
    }

    /// Appends bytes of the current tensor (tensors are filled in declaration order; a call may span
    /// part of one tensor, never two).
    /// - Throws: `MVLMError` (`.invalidArgument`) when more bytes arrive than the tensor holds.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard current < sizes.count, writtenInCurrent + bytes.count <= sizes[current] else {
            throw MVLMError(
                .invalidArgument, "more bytes than declared", file: output.destination,
                subject: current < names.count ? "tensor '\(names[current])'" : nil)
        }
        try output.write(bytes)
        writtenInCurrent += bytes.count
        if writtenInCurrent == sizes[current] {
            current += 1
            writtenInCurrent = 0
            skipEmpty()
        }
    }

    /// Publishes the file. - Throws: when a declared tensor was not fully written.
    public func finish() throws {
        guard current == sizes.count else {
            throw MVLMError(.invalidArgument, "tensor '\(names[current])' is incomplete", file: output.destination)
        }
        try output.commit()
    }

    private func skipEmpty() {
        while current < sizes.count, sizes[current] == 0 { current += 1 }
    }

    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
